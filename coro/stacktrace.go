package coro

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
)

// framesOf turns return PCs (as runtime.Callers gives them) into frames,
// inlined calls included.
func framesOf(pcs []uintptr) []runtime.Frame {
	var out []runtime.Frame
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function != "" {
			out = append(out, f)
		}
		if !more {
			return out
		}
	}
}

// trimFrames drops the machinery around the user's code: coro, iter, ctx
// and runtime frames above the innermost user frame (Yield and the switch)
// and below the outermost one (the body's caller and the stack's top).
func trimFrames(frames []runtime.Frame) []runtime.Frame {
	isMachinery := func(f runtime.Frame) bool {
		for _, p := range []string{"runtime.", "iter.", "github.com/corokit/corokit/coro.", "github.com/corokit/corokit/ctx."} {
			if strings.HasPrefix(f.Function, p) {
				return true
			}
		}
		return false
	}
	for len(frames) > 0 && isMachinery(frames[0]) {
		frames = frames[1:]
	}
	for len(frames) > 0 && isMachinery(frames[len(frames)-1]) {
		frames = frames[:len(frames)-1]
	}
	return frames
}

// goroutineFrames reads another goroutine's stack from runtime.Stack's
// dump of all goroutines: the only way the runtime offers. It has function
// names, files and lines, but no PCs or entries.
func goroutineFrames(goid uint64) []runtime.Frame {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	header := []byte("goroutine " + strconv.FormatUint(goid, 10) + " [")
	i := bytes.Index(buf, header)
	if i < 0 {
		return nil
	}
	block := buf[i:]
	if end := bytes.Index(block, []byte("\n\n")); end >= 0 {
		block = block[:end]
	}
	lines := strings.Split(string(block), "\n")[1:] // skip the header
	var frames []runtime.Frame
	for k := 0; k+1 < len(lines); k += 2 {
		fn, loc := lines[k], strings.TrimSpace(lines[k+1])
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		if p := strings.LastIndexByte(fn, '('); p > 0 {
			fn = fn[:p] // drop the argument list
		}
		if sp := strings.IndexByte(loc, ' '); sp >= 0 {
			loc = loc[:sp] // drop " +0x1f"
		}
		file, line := loc, 0
		if c := strings.LastIndexByte(loc, ':'); c >= 0 {
			file = loc[:c]
			line, _ = strconv.Atoi(loc[c+1:])
		}
		frames = append(frames, runtime.Frame{Function: fn, File: file, Line: line})
	}
	return frames
}
