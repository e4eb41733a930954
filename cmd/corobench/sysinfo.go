package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/unix"
)

// CPU identifies the processor, for comparing machines.
type CPU struct {
	Vendor        string  `json:"vendor"`
	Brand         string  `json:"brand"`
	Family        int     `json:"family"`
	Model         int     `json:"model"`
	Stepping      int     `json:"stepping"`
	LogicalCores  int     `json:"logical_cores"`
	PhysicalCores int     `json:"physical_cores"`
	L1D           int     `json:"l1d_bytes"`
	L1I           int     `json:"l1i_bytes"`
	L2            int     `json:"l2_bytes"`
	L3            int     `json:"l3_bytes"`
	InvariantTSC  yesBool `json:"invariant_tsc"`
	CETShadow     bool    `json:"cet_shadow_stack"`
	CETIBT        bool    `json:"cet_ibt"`
	Hypervisor    string  `json:"hypervisor,omitempty"`
}

// yesBool is a JSON boolean that also reads "yes" and "no": reports
// written before invariant_tsc became a boolean hold those strings (or,
// read as false, why it was unknown).
type yesBool bool

func (b *yesBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = yesBool(v)
	case string:
		*b = v == "yes"
	default:
		return fmt.Errorf("want a boolean, not %s", data)
	}
	return nil
}

// OS describes the system.
type OS struct {
	Kernel string `json:"kernel"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
}

// readCPU identifies the processor; notes say what could not be found out.
func readCPU() (CPU, []string) {
	c := cpuid.CPU
	cpu := CPU{
		Vendor: c.VendorString, Brand: strings.TrimSpace(c.BrandName),
		Family: c.Family, Model: c.Model, Stepping: c.Stepping,
		LogicalCores: c.LogicalCores, PhysicalCores: c.PhysicalCores,
		L1D: c.Cache.L1D, L1I: c.Cache.L1I, L2: c.Cache.L2, L3: c.Cache.L3,
		CETShadow: c.Supports(cpuid.CETSS), CETIBT: c.Supports(cpuid.CETIBT),
		Hypervisor: c.HypervisorVendorString,
	}
	if cpu.LogicalCores == 0 {
		cpu.LogicalCores = runtime.NumCPU()
	}
	if cpu.Vendor == "" {
		cpu.Vendor = runtime.GOARCH
	}
	var notes []string
	invariant, err := invariantTSC()
	cpu.InvariantTSC = yesBool(invariant)
	if err != nil {
		notes = append(notes, "invariant TSC unknown, reported as false: "+err.Error())
	}
	return cpu, notes
}

// invariantTSC reports whether the tick counter runs at a constant rate.
// On amd64 it reads the kernel's view: constant_tsc and nonstop_tsc
// together make the TSC invariant (cpuid's library does not report it).
// arm64's generic timer has a fixed frequency by design.
func invariantTSC() (bool, error) {
	if runtime.GOARCH == "arm64" {
		return true, nil
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false, err
	}
	_, rest, found := bytes.Cut(info, []byte("\nflags"))
	if !found {
		return false, errors.New("no flags line in /proc/cpuinfo")
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	flags := " " + string(line) + " "
	return strings.Contains(flags, " constant_tsc ") && strings.Contains(flags, " nonstop_tsc "), nil
}

func readOS() OS {
	var u unix.Utsname
	kernel := "unknown"
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return OS{Kernel: kernel, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
}
