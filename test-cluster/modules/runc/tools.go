//go:build tools

// Package tools records the main package that ../../build compiles, so that `go mod tidy`
// keeps every module it needs.
package tools

import (
	_ "github.com/opencontainers/runc"
)
