//go:build tools

// Package tools records the Helm main package that ../../build compiles.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
