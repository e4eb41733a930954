module github.com/corokit/corokit/examples/luacoro

go 1.26.0

require (
	github.com/corokit/corokit v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/yuin/gopher-lua v1.1.2
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/corokit/corokit => ../..
