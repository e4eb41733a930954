package main

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// A value is one constant of package gabi and where in the toolchain's
// source it comes from: a field offset (typ and path) or a constant (cnst).
type value struct {
	name  string    // the constant's name in package gabi
	typ   string    // a struct type of package runtime, or pullState
	path  []string  // the field path inside typ
	cnst  string    // a constant of package runtime
	build buildKind // the builds the value is for
}

// A buildKind is the kind of build a value holds in: a value that differs
// with -race comes in two, one for each.
type buildKind int

const (
	anyBuild buildKind = iota
	noRaceBuild
	raceBuild
)

// pullState names the struct type of iter.Pull's local variable pull,
// with V = struct{}: the state its next, yield and stop closures share.
const pullState = "iter.Pull.pull"

// A group is a block of values written under one comment.
type group struct {
	doc    string
	values []value
}

func field(name, typ string, path ...string) value { return value{name: name, typ: typ, path: path} }

func cnst(name, c string) value { return value{name: name, cnst: c} }

// groups lists every value the generated files define. The names are
// corokit's API to the runtime: the Go code and (through ctx's and
// continuation's own constants) the assembly use them.
var groups = []group{
	{"Offsets in the runtime's goroutine record, runtime.g (runtime/runtime2.go).", []value{
		field("OffStackLo", "g", "stack", "lo"),
		field("OffStackHi", "g", "stack", "hi"),
		field("OffStackGuard0", "g", "stackguard0"),
		field("OffStackGuard1", "g", "stackguard1"),
		field("OffPanic", "g", "_panic"),
		field("OffDefer", "g", "_defer"),
		field("OffM", "g", "m"),
		field("OffSched", "g", "sched"),
		field("OffStkTopSP", "g", "stktopsp"),
		field("OffAtomicStatus", "g", "atomicstatus"),
		field("OffGoid", "g", "goid"),
		field("OffWaitReason", "g", "waitreason"),
		field("OffPreempt", "g", "preempt"),
		field("OffLockedM", "g", "lockedm"),
		field("OffSecret", "g", "secret"),
		field("OffBubble", "g", "bubble"),
	}},
	{"Offsets in runtime.gobuf, the saved registers at g.sched.", []value{
		field("OffGobufSP", "gobuf", "sp"),
		field("OffGobufPC", "gobuf", "pc"),
		field("OffGobufG", "gobuf", "g"),
		field("OffGobufCtxt", "gobuf", "ctxt"),
		field("OffGobufLR", "gobuf", "lr"),
		field("OffGobufBP", "gobuf", "bp"),
	}},
	{"Offsets in runtime.m, the thread record at g.m.", []value{
		field("OffMG0", "m", "g0"),
		field("OffMCurg", "m", "curg"),
		field("OffMLocks", "m", "locks"),
	}},
	{"Offsets in runtime.coro (runtime/coro.go), the handoff record behind iter.Pull.", []value{
		field("OffCoroGP", "coro", "gp"),
		field("OffCoroF", "coro", "f"),
		field("OffCoroMP", "coro", "mp"),
	}},
	{"Goroutine states (g.atomicstatus) and wait reasons (g.waitreason). The\n" +
		"goroutine leak profile considers only waits from WaitReasonChanReceiveNilChan\n" +
		"to WaitReasonSyncWaitGroupWait (runtime.(*g).internalBlocked).", []value{
		cnst("Grunning", "_Grunning"),
		cnst("Gwaiting", "_Gwaiting"),
		cnst("Gscan", "_Gscan"),
		cnst("Gscanwaiting", "_Gscanwaiting"),
		cnst("WaitReasonCoroutine", "waitReasonCoroutine"),
		cnst("WaitReasonChanReceive", "waitReasonChanReceive"),
		cnst("WaitReasonChanReceiveNilChan", "waitReasonChanReceiveNilChan"),
		cnst("WaitReasonSyncWaitGroupWait", "waitReasonSyncWaitGroupWait"),
	}},
	{"The runtime's stackGuard (runtime/stack.go): stackguard0 is stack.lo plus\n" +
		"this while no preemption is requested. The race detector enlarges it.", []value{
		{name: "StackGuardNoRace", cnst: "stackGuard", build: noRaceBuild},
		{name: "StackGuardRace", cnst: "stackGuard", build: raceBuild},
	}},
	{"Byte offsets in iter.Pull's shared state (the struct of its local variable\n" +
		"pull) with V = struct{}.", []value{
		field("IterPullDone", pullState, "done"),
		field("IterPullYieldNext", pullState, "yieldNext"),
		field("IterPullSeqDone", pullState, "seqDone"),
	}},
}

// An asmTerm names one step of a field path as the runtime's go_asm.h
// does: #define <typ>_<field> <offset>.
type asmTerm struct{ typ, field string }

// A result is one value as computed from a toolchain's source.
type result struct {
	value
	n   int64
	asm []asmTerm // runtime's go_asm.h entries that sum to n, if any
}

// A toolchain is the Go installation whose runtime is read.
type toolchain struct {
	goroot  string
	version string // as `go env GOVERSION` prints it: go1.26.8
	release string // go1.26
	minor   int    // 26

	checked map[config]*checked // what check has type-checked so far
}

// A config is what the runtime is type-checked for.
type config struct {
	arch string
	race bool
}

var releaseRE = regexp.MustCompile(`^go1\.(\d+)`)

// findToolchain describes the toolchain at goroot, or, if goroot is
// empty, the one `go generate` runs the generator for ($GOROOT), or else
// the one the go command in $PATH selects.
func findToolchain(goroot string) (*toolchain, error) {
	if goroot == "" {
		goroot = os.Getenv("GOROOT")
	}
	if goroot == "" {
		out, err := runGo("go", nil, "env", "GOROOT")
		if err != nil {
			return nil, err
		}
		goroot = out
	}
	tc := &toolchain{goroot: goroot, checked: map[config]*checked{}}
	version, err := tc.goCmd(nil, "env", "GOVERSION")
	if err != nil {
		return nil, err
	}
	m := releaseRE.FindStringSubmatch(version)
	if m == nil {
		return nil, fmt.Errorf("%s: cannot tell the Go release from GOVERSION %q", goroot, version)
	}
	tc.version, tc.release = version, m[0]
	tc.minor, _ = strconv.Atoi(m[1])
	return tc, nil
}

// goCmd runs this toolchain's own go command, with exactly this toolchain
// (no switching) and its default configuration (no GOFLAGS, no
// GOEXPERIMENT), plus env.
func (tc *toolchain) goCmd(env []string, args ...string) (string, error) {
	env = append([]string{"GOTOOLCHAIN=local", "GOFLAGS=", "GOEXPERIMENT=", "GOROOT=" + tc.goroot}, env...)
	return runGo(filepath.Join(tc.goroot, "bin", "go"), env, args...)
}

func runGo(gocmd string, env []string, args ...string) (string, error) {
	cmd := exec.Command(gocmd, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v", gocmd, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// context is the go/build context in which this toolchain's go command
// builds for linux/arch. Its tool tags (GOAMD64 level, default
// experiments) and release tags come from that go command: the
// generator's own would be wrong for another toolchain or architecture.
func (tc *toolchain) context(arch string, race bool) (build.Context, error) {
	out, err := tc.goCmd([]string{"GOOS=linux", "GOARCH=" + arch},
		"list", "-f", "{{join context.ToolTags \",\"}} {{join context.ReleaseTags \",\"}}", "runtime")
	if err != nil {
		return build.Context{}, err
	}
	tool, rel, ok := strings.Cut(out, " ")
	if !ok {
		return build.Context{}, fmt.Errorf("go list printed %q, not tool tags and release tags", out)
	}
	ctxt := build.Default
	ctxt.GOROOT, ctxt.GOPATH = tc.goroot, ""
	ctxt.GOOS, ctxt.GOARCH, ctxt.Compiler = "linux", arch, "gc"
	ctxt.CgoEnabled = false
	ctxt.ToolTags, ctxt.ReleaseTags = strings.Split(tool, ","), strings.Split(rel, ",")
	ctxt.BuildTags = nil
	if race {
		ctxt.BuildTags = []string{"race"}
	}
	return ctxt, nil
}

// A checked is a toolchain's packages type-checked for one configuration.
type checked struct {
	sizes   types.Sizes
	runtime *types.Package
	pull    *types.Struct // nil in a race configuration
}

// check type-checks this toolchain's runtime for linux/arch, and iter
// too unless race.
func (tc *toolchain) check(arch string, race bool) (*checked, error) {
	if c := tc.checked[config{arch, race}]; c != nil {
		return c, nil
	}
	ctxt, err := tc.context(arch, race)
	if err != nil {
		return nil, err
	}
	// The source importer reads build.Default, so that is where the
	// context goes; it also type-checks runtime's own imports from source
	// with it.
	build.Default = ctxt
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	c := &checked{sizes: types.SizesFor("gc", arch)}
	if c.runtime, err = imp.Import("runtime"); err != nil {
		return nil, fmt.Errorf("type-checking runtime: %v", err)
	}
	if !race {
		if c.pull, err = pullStruct(&ctxt, fset, imp); err != nil {
			return nil, err
		}
	}
	tc.checked[config{arch, race}] = c
	return c, nil
}

// pullStruct type-checks package iter, bodies included, and returns the
// type of the local variable pull in Pull with V = struct{}.
func pullStruct(ctxt *build.Context, fset *token.FileSet, imp types.Importer) (*types.Struct, error) {
	bp, err := ctxt.Import("iter", "", 0)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(bp.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: imp, Sizes: types.SizesFor("gc", ctxt.GOARCH)}
	if _, err := conf.Check("iter", fset, files, info); err != nil {
		return nil, fmt.Errorf("type-checking iter: %v", err)
	}
	var pull types.Object
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "Pull" && fd.Recv == nil {
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					if id, ok := n.(*ast.Ident); ok && id.Name == "pull" && info.Defs[id] != nil && pull == nil {
						pull = info.Defs[id]
					}
					return pull == nil
				})
			}
		}
	}
	if pull == nil {
		return nil, fmt.Errorf("iter.Pull declares no variable pull")
	}
	s, ok := pull.Type().(*types.Struct)
	if !ok {
		return nil, fmt.Errorf("iter.Pull's variable pull is a %s, not a struct", pull.Type())
	}
	fields := make([]*types.Var, s.NumFields())
	for i := range fields {
		f := s.Field(i)
		t := f.Type()
		if _, ok := t.(*types.TypeParam); ok {
			t = types.NewStruct(nil, nil)
		} else if sizeDependsOnTypeParam(t) {
			return nil, fmt.Errorf("iter.Pull's pull.%s is a %s: its size depends on V", f.Name(), t)
		}
		fields[i] = types.NewField(f.Pos(), f.Pkg(), f.Name(), t, f.Embedded())
	}
	return types.NewStruct(fields, nil), nil
}

// sizeDependsOnTypeParam reports whether t's size changes with a type
// parameter (pointers, slices, maps and the like have one size).
func sizeDependsOnTypeParam(t types.Type) bool {
	switch t := t.(type) {
	case *types.TypeParam:
		return true
	case *types.Array:
		return sizeDependsOnTypeParam(t.Elem())
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if sizeDependsOnTypeParam(t.Field(i).Type()) {
				return true
			}
		}
	case *types.Named:
		return t.TypeArgs().Len() > 0 && sizeDependsOnTypeParam(t.Underlying())
	}
	return false
}

// compute evaluates every value for linux/arch. A field or constant that
// is missing is an error naming it, the release and the architecture.
func (tc *toolchain) compute(arch string, values []value) ([]result, error) {
	var out []result
	for _, v := range values {
		race := v.build == raceBuild
		c, err := tc.check(arch, race)
		if err != nil {
			flags := ""
			if race {
				flags = " -race"
			}
			return nil, fmt.Errorf("%s linux/%s%s: %v", tc.version, arch, flags, err)
		}
		r, err := c.eval(v)
		if err != nil {
			return nil, fmt.Errorf("%s linux/%s: %s: %v", tc.version, arch, v.name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *checked) eval(v value) (result, error) {
	r := result{value: v}
	if v.cnst != "" {
		obj, ok := c.runtime.Scope().Lookup(v.cnst).(*types.Const)
		if !ok {
			return r, fmt.Errorf("runtime has no constant %s", v.cnst)
		}
		n, exact := constant.Int64Val(constant.ToInt(obj.Val()))
		if !exact {
			return r, fmt.Errorf("runtime.%s = %s is not an integer", v.cnst, obj.Val())
		}
		r.n, r.asm = n, []asmTerm{{"const", v.cnst}}
		return r, nil
	}
	var s *types.Struct
	typ := v.typ
	if typ == pullState {
		if s = c.pull; s == nil {
			return r, fmt.Errorf("iter was not type-checked")
		}
	} else {
		obj, ok := c.runtime.Scope().Lookup(typ).(*types.TypeName)
		if !ok {
			return r, fmt.Errorf("runtime has no type %s", typ)
		}
		if s, ok = obj.Type().Underlying().(*types.Struct); !ok {
			return r, fmt.Errorf("runtime.%s is not a struct", typ)
		}
	}
	where := typ
	for i, name := range v.path {
		j := fieldIndex(s, name)
		if j < 0 {
			return r, fmt.Errorf("%s has no field %s", where, name)
		}
		fields := make([]*types.Var, s.NumFields())
		for k := range fields {
			fields[k] = s.Field(k)
		}
		r.n += c.sizes.Offsetsof(fields)[j]
		if typ != pullState {
			r.asm = append(r.asm, asmTerm{typ, name})
		}
		where += "." + name
		if i == len(v.path)-1 {
			break
		}
		ft := s.Field(j).Type()
		named, _ := ft.(*types.Named)
		if s, _ = ft.Underlying().(*types.Struct); s == nil || named == nil {
			return r, fmt.Errorf("%s is a %s, not a named struct", where, ft)
		}
		typ = named.Obj().Name()
	}
	return r, nil
}

func fieldIndex(s *types.Struct, name string) int {
	for i := 0; i < s.NumFields(); i++ {
		if s.Field(i).Name() == name {
			return i
		}
	}
	return -1
}
