package cli

import (
	"os"
	"testing"

	"github.com/kmsgrant/kmsgrant/cmd/internal/testenv"
)

// No test may write outside its temporary folder (see testenv).
func TestMain(m *testing.M) {
	os.Exit(testenv.Isolated(m).Run())
}
