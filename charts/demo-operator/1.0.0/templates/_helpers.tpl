{{/* Chart name, used as app.kubernetes.io/name. */}}
{{- define "demo-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource names follow the release name, so tests can predict them. */}}
{{- define "demo-operator.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "name-version" with "+" made label-safe. */}}
{{- define "demo-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels. Deployment selectors are immutable, so changing these is a breaking change. */}}
{{- define "demo-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "demo-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Full label set for every object. */}}
{{- define "demo-operator.labels" -}}
{{ include "demo-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "demo-operator.chart" . }}
{{- end -}}
