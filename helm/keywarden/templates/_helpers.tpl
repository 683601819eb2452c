{{/*
Labels of every object. "component" is operator or injector; the name label is the object's
fixed name, so selectors never depend on the release name.
*/}}
{{- define "keywarden.labels" -}}
app.kubernetes.io/name: keywarden-{{ .component }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: keywarden
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select the pods of one component; they never change between upgrades. */}}
{{- define "keywarden.selectorLabels" -}}
app.kubernetes.io/name: keywarden-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "keywarden.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* One line of a Java properties file: key=value with backslashes and line breaks escaped. */}}
{{- define "keywarden.property" -}}
{{ .key }}={{ toString .value | replace "\\" "\\\\" | replace "\n" "\\n" }}
{{- end -}}

{{/* Replicas prefer different nodes unless the user gave an affinity. */}}
{{- define "keywarden.affinity" -}}
{{- if .values.affinity }}
{{- toYaml .values.affinity }}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "keywarden.selectorLabels" (dict "root" .root "component" .component) | nindent 12 }}
{{- end }}
{{- end -}}

{{/* Scheduling fields shared by both Deployments. */}}
{{- define "keywarden.scheduling" -}}
affinity:
  {{- include "keywarden.affinity" . | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The CSIDriver object of csi/csidriver.yaml, the one copy (csi/deploy/csidriver.yaml links to it). */}}
{{- define "keywarden.csiDriver" -}}
{{- .Files.Get "csi/csidriver.yaml" | fromYaml | toYaml -}}
{{- end -}}

{{/* The CSI driver's name: the CSIDriver object's, so the plugin registers under the same name. */}}
{{- define "keywarden.csiDriverName" -}}
{{- (include "keywarden.csiDriver" . | fromYaml).metadata.name -}}
{{- end -}}
