package continuation_test

import (
	"fmt"
	"strings"

	"github.com/corokit/corokit/continuation"
)

// A generator: each Run produces the next value.
func Example_generator() {
	scope := continuation.NewScope("squares")
	var value int
	gen := continuation.New(scope, func() {
		for i := 1; i <= 4; i++ {
			value = i * i
			continuation.Yield(scope)
		}
	})
	for gen.Run(); !gen.IsDone(); gen.Run() {
		fmt.Print(value, " ")
	}
	fmt.Println()
	// Output: 1 4 9 16
}

// An interpreter-style use: a recursive evaluator for a tiny expression
// language whose "(ask NAME)" form suspends the whole evaluation, from
// however deep in the recursion, until the host supplies a value.
func Example_interpreter() {
	type expr struct {
		op   string // "+", "*", "num", "ask"
		num  int
		name string
		args []*expr
	}
	interp := continuation.NewScope("interpreter")
	var question string // what the suspended evaluation waits for
	var answer int      // what the host answered

	var eval func(e *expr) int
	eval = func(e *expr) int {
		switch e.op {
		case "num":
			return e.num
		case "ask":
			question = e.name
			continuation.Yield(interp) // suspend the evaluation, recursion and all
			return answer
		}
		acc := map[string]int{"+": 0, "*": 1}[e.op]
		for _, a := range e.args {
			if v := eval(a); e.op == "+" {
				acc += v
			} else {
				acc *= v
			}
		}
		return acc
	}

	// (+ 1 (* (ask x) (+ 2 (ask y))))
	program := &expr{op: "+", args: []*expr{
		{op: "num", num: 1},
		{op: "*", args: []*expr{
			{op: "ask", name: "x"},
			{op: "+", args: []*expr{{op: "num", num: 2}, {op: "ask", name: "y"}}},
		}},
	}}
	var result int
	run := continuation.New(interp, func() { result = eval(program) })

	inputs := map[string]int{"x": 5, "y": 4}
	var log []string
	for run.Run(); !run.IsDone(); run.Run() {
		log = append(log, question)
		answer = inputs[question]
	}
	fmt.Println("asked:", strings.Join(log, ", "))
	fmt.Println("result:", result)
	// Output:
	// asked: x, y
	// result: 31
}
