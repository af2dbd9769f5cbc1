{{/* The chart's name, overridable. */}}
{{- define "cdm-sink-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: the release name, suffixed with the chart's name unless it already contains it. */}}
{{- define "cdm-sink-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cdm-sink-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cdm-sink-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cdm-sink-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cdm-sink-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cdm-sink-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* metadata.labels and, when set, metadata.annotations of every object. */}}
{{- define "cdm-sink-operator.metadata" -}}
labels:
  {{- include "cdm-sink-operator.labels" . | nindent 2 }}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "cdm-sink-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cdm-sink-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cdm-sink-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The permissions the controller needs on provisions, Secrets and Events: exactly the calls it makes
(src/controller/kube-ports.ts). The same rules as manifests/rbac/cluster-role.yaml; a test compares them.
*/}}
{{- define "cdm-sink-operator.rules" -}}
# The informer lists and watches; finalizers are merge patches; a conflict re-reads with get.
- apiGroups: [cdm.nucleus.io]
  resources: [cdmsinkprovisions]
  verbs: [get, list, watch, patch]
# Status is written only as a merge patch of the /status subresource.
- apiGroups: [cdm.nucleus.io]
  resources: [cdmsinkprovisions/status]
  verbs: [patch]
# The connection URL named by spec.endpoint.connection.secretRef, read when reconciling (never watched).
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# Events are created, and repeats aggregated by patching count and lastTimestamp.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* Refuses values that would render a broken install, with what to change. */}}
{{- define "cdm-sink-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled=true: without it every replica reconciles the same provisions at once" }}
{{- end }}
{{- range .Values.watchNamespaces }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .) }}
{{- fail (printf "watchNamespaces: %q is not a namespace name (lower-case letters, digits and '-')" .) }}
{{- end }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled .Values.metrics.podMonitor.enabled }}
{{- fail "metrics.serviceMonitor.enabled and metrics.podMonitor.enabled are both true: Prometheus would scrape every replica twice; enable one" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled=true (a ServiceMonitor selects the metrics Service); or use metrics.podMonitor" }}
{{- end }}
{{- end }}
