package main

import (
	"testing"

	"github.com/llmtap/llmtap/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, "llmstat", main) }

// TestScripts checks the command-line promises in testdata/script/*.txtar
// against the real main.
func TestScripts(t *testing.T) { clitest.Run(t) }
