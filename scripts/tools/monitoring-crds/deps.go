// Package crds only pins the prometheus-operator API types that build-monitoring-crds.sh generates the
// monitoring.coreos.com CRDs from (the operator's own module, which ships the YAML, is not on the proxy).
package crds

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
