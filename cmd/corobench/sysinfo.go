package main

import (
	"bytes"
	"os"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/unix"
)

// CPU identifies the processor, for comparing machines.
type CPU struct {
	Vendor        string `json:"vendor"`
	Brand         string `json:"brand"`
	Family        int    `json:"family"`
	Model         int    `json:"model"`
	Stepping      int    `json:"stepping"`
	LogicalCores  int    `json:"logical_cores"`
	PhysicalCores int    `json:"physical_cores"`
	L1D           int    `json:"l1d_bytes"`
	L1I           int    `json:"l1i_bytes"`
	L2            int    `json:"l2_bytes"`
	L3            int    `json:"l3_bytes"`
	InvariantTSC  string `json:"invariant_tsc"` // "yes", "no", or why unknown
	CETShadow     bool   `json:"cet_shadow_stack"`
	CETIBT        bool   `json:"cet_ibt"`
	Hypervisor    string `json:"hypervisor,omitempty"`
}

// OS describes the system.
type OS struct {
	Kernel string `json:"kernel"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
}

func readCPU() CPU {
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
	cpu.InvariantTSC = invariantTSC()
	return cpu
}

// invariantTSC reads the kernel's view: constant_tsc and nonstop_tsc
// together make the TSC invariant. cpuid's library does not report it.
func invariantTSC() string {
	if runtime.GOARCH != "amd64" {
		return "n/a (" + runtime.GOARCH + " generic timer: a fixed frequency by design)"
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := bytes.Cut(info[bytes.Index(info, []byte("flags")):], []byte("\n"))
	flags := " " + string(line) + " "
	if strings.Contains(flags, " constant_tsc ") && strings.Contains(flags, " nonstop_tsc ") {
		return "yes"
	}
	return "no"
}

func readOS() OS {
	var u unix.Utsname
	kernel := "unknown"
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return OS{Kernel: kernel, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
}
