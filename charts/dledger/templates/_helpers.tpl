{{/* Chart name, overridable. */}}
{{- define "dledger.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name prefix of every object; a release named like the chart is not repeated. */}}
{{- define "dledger.fullname" -}}
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

{{- define "dledger.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "dledger.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dledger.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Standard labels; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "dledger.labels" -}}
{{ include "dledger.selectorLabels" . }}
helm.sh/chart: {{ include "dledger.chart" .ctx }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: dledger
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "dledger.operator.fullname" -}}
{{- printf "%s-operator" (include "dledger.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dledger.namesrv.fullname" -}}
{{- printf "%s-namesrv" (include "dledger.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dledger.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "dledger.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create=false" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* image reference; call with (dict "image" .Values.x.image "ctx" $). */}}
{{- define "dledger.image" -}}
{{- $repo := required "image.repository is required" .image.repository -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* Name server addresses the group registers with: every name server replica by its stable name. */}}
{{- define "dledger.group.nameServerAddresses" -}}
{{- if .Values.group.nameServerAddresses -}}
{{- .Values.group.nameServerAddresses -}}
{{- else if .Values.nameServer.enabled -}}
{{- $name := include "dledger.namesrv.fullname" . -}}
{{- $addrs := list -}}
{{- range $i := until (int .Values.nameServer.replicas) -}}
{{- $addrs = append $addrs (printf "%s-%d.%s.%s.svc:%d" $name $i $name $.Release.Namespace (int $.Values.nameServer.port)) -}}
{{- end -}}
{{- join ";" $addrs -}}
{{- end -}}
{{- end -}}
