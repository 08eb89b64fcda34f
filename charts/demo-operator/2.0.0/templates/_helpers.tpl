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

{{/* Selector labels. 2.0.0 adds the component label, which is why it is a breaking
release: Deployment selectors are immutable, so 1.x releases must be reinstalled. */}}
{{- define "demo-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "demo-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* Full label set for every object. */}}
{{- define "demo-operator.labels" -}}
{{ include "demo-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "demo-operator.chart" . }}
{{- end -}}
