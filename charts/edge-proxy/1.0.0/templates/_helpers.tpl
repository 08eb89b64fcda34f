{{/* stable/-style helpers, as the community charts wrote them before app.kubernetes.io labels. */}}
{{- define "edge-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "edge-proxy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "edge-proxy.controller.fullname" -}}
{{- printf "%s-controller" (include "edge-proxy.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: `app` and `release` (no app.kubernetes.io/instance in this version). */}}
{{- define "edge-proxy.selectorLabels" -}}
app: {{ include "edge-proxy.name" . }}
release: {{ .Release.Name }}
component: controller
{{- end -}}

{{- define "edge-proxy.labels" -}}
{{ include "edge-proxy.selectorLabels" . }}
chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
heritage: {{ .Release.Service }}
{{- end -}}
