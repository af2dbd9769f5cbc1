// Command flux-health reads objects' status the way kustomize-controller does for a Kustomization with
// `wait: true` and `healthCheckExprs`: Flux's own status reader (github.com/fluxcd/pkg/runtime/cel over
// cli-utils' generic reader), so the tests check the GitOps example's CEL against the controller's real
// status shapes.
//
// stdin:  {"healthCheckExprs": [{"apiVersion", "kind", "current", "failed", "inProgress"}], "objects": [...]}
// stdout: one {"status", "error"} per object, in order; status is kstatus' (Current, Failed, InProgress,
// Unknown: an expression that cannot be evaluated, which the wait keeps polling). Expressions that do not
// parse are an error (exit 1), as they are when Flux builds the reader.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

type input struct {
	HealthChecks []kustomize.CustomHealthCheck `json:"healthCheckExprs"`
	Objects      []map[string]any              `json:"objects"`
}

type output struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flux-health:", err)
		os.Exit(1)
	}
}

func run() error {
	var in input
	decoder := json.NewDecoder(os.Stdin)
	// Numbers as json.Number, then int64/float64 as the API machinery decodes them (unstructured content
	// holds int64 for integers; the evaluator's observedGeneration check relies on it).
	decoder.UseNumber()
	if err := decoder.Decode(&in); err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	newReader, err := cel.NewStatusReader(in.HealthChecks)
	if err != nil {
		return err
	}
	// The generic reader needs neither a REST mapper nor a cluster for an object it is handed.
	reader := newReader(nil)
	results := make([]output, 0, len(in.Objects))
	for i, object := range in.Objects {
		u := &unstructured.Unstructured{Object: normalise(object).(map[string]any)}
		status, err := reader.ReadStatusForObject(context.Background(), nil, u)
		if err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		result := output{Status: status.Status.String()}
		if status.Error != nil {
			result.Error = status.Error.Error()
		}
		results = append(results, result)
	}
	return json.NewEncoder(os.Stdout).Encode(results)
}

func normalise(value any) any {
	switch v := value.(type) {
	case map[string]any:
		for key, item := range v {
			v[key] = normalise(item)
		}
		return v
	case []any:
		for i, item := range v {
			v[i] = normalise(item)
		}
		return v
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	default:
		return v
	}
}
