{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "warmpool.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "warmpool.fullname" -}}
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

{{- define "warmpool.selectorLabels" -}}
app.kubernetes.io/name: {{ include "warmpool.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "warmpool.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "warmpool.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{- define "warmpool.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "warmpool.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The workload kind (workload.kind), checked: Deployment, or StatefulSet for gateway replicas that
need stable pod names (a balancer hashing devices onto <fullname>-N, docs/operations.md "Scaling out").
*/}}
{{- define "warmpool.workloadKind" -}}
{{- $kind := .Values.workload.kind -}}
{{- if not (has $kind (list "Deployment" "StatefulSet")) }}
{{- fail (printf "workload.kind must be Deployment or StatefulSet, not %v" $kind) }}
{{- end }}
{{- if and (eq $kind "StatefulSet") (eq .Values.mode "sidecar") }}
{{- fail "workload.kind: StatefulSet is for mode: gateway (stable replica names behind a balancer); in sidecar mode the pod is your application's: use Deployment" }}
{{- end }}
{{- $kind -}}
{{- end }}

{{/* The headless Service: one DNS record per ready pod; the StatefulSet's serviceName. */}}
{{- define "warmpool.headlessName" -}}
{{- printf "%s-headless" (include "warmpool.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{- define "warmpool.inventoryConfigMap" -}}
{{- default (printf "%s-inventory" (include "warmpool.fullname" .)) .Values.inventory.existingConfigMap }}
{{- end }}

{{/*
The warmpool config file: the keys the chart owns (listen addresses, TLS/token file paths,
inventory path) merged over .Values.config. Also refuses setups warmpool itself would refuse.
*/}}
{{- define "warmpool.config" -}}
{{- $sidecar := eq .Values.mode "sidecar" -}}
{{- if not (or $sidecar (eq .Values.mode "gateway")) }}
{{- fail "mode must be gateway or sidecar" }}
{{- end }}
{{- $grpc := dict "listen" (printf "%s:%d" (ternary "127.0.0.1" "0.0.0.0" $sidecar) (int .Values.grpc.port)) -}}
{{- if not $sidecar }}
{{- if .Values.auth.tls.enabled }}
{{- $tls := dict "certFile" "/etc/warmpool/tls/tls.crt" "keyFile" "/etc/warmpool/tls/tls.key" -}}
{{- if .Values.auth.tls.requireClientCert }}
{{- $_ := set $tls "clientCaFile" "/etc/warmpool/tls/ca.crt" -}}
{{- end }}
{{- $_ := set $grpc "tls" $tls -}}
{{- end }}
{{- if .Values.auth.tokens.enabled }}
{{- $_ := set $grpc "auth" (dict "tokensFile" "/etc/warmpool/tokens/tokens.yaml") -}}
{{- end }}
{{- if not (or .Values.auth.tls.enabled .Values.auth.tokens.enabled (dig "grpc" "auth" "allowInsecure" false .Values.config)) }}
{{- fail "gateway mode listens on 0.0.0.0: enable auth.tls or auth.tokens (or set config.grpc.auth.allowInsecure: true knowingly)" }}
{{- end }}
{{- end }}
{{- $chart := dict "grpc" $grpc "metrics" (dict "listen" (printf "0.0.0.0:%d" (int .Values.metrics.port))) "inventory" (dict "file" "/etc/warmpool/inventory/devices.yaml") -}}
{{- $cfg := mergeOverwrite (deepCopy .Values.config) $chart -}}
{{- toYaml $cfg }}
{{- end }}

{{/* A startup or readiness probe: httpGet /readyz on the metrics port, or the kubelet's gRPC probe. */}}
{{- define "warmpool.readyProbe" -}}
{{- if eq .root.Values.probes.type "grpc" }}
{{- if or (eq .root.Values.mode "sidecar") .root.Values.auth.tls.enabled }}
{{- fail "probes.type grpc needs gateway mode without TLS (the kubelet cannot reach 127.0.0.1 or speak TLS); use httpGet" }}
{{- end }}
grpc:
  port: {{ .root.Values.grpc.port }}
{{- else }}
httpGet:
  path: /readyz
  port: metrics
{{- end }}
{{ toYaml .settings }}
{{- end }}

{{/* The warmpool container, shared by both modes (as a native sidecar it also gets restartPolicy: Always). */}}
{{- define "warmpool.container" -}}
- name: warmpool
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if eq .Values.mode "sidecar" }}
  restartPolicy: Always
  {{- end }}
  args: ["serve", "--config", "/etc/warmpool/warmpool.yaml"]
  env:
    - name: NODE_OPTIONS
      value: {{ .Values.nodeOptions | quote }}
  ports:
    {{- if eq .Values.mode "gateway" }}
    - name: grpc
      containerPort: {{ .Values.grpc.port }}
      protocol: TCP
    {{- end }}
    - name: metrics
      containerPort: {{ .Values.metrics.port }}
      protocol: TCP
  startupProbe:
    {{- include "warmpool.readyProbe" (dict "root" . "settings" .Values.probes.startup) | nindent 4 }}
  readinessProbe:
    {{- include "warmpool.readyProbe" (dict "root" . "settings" .Values.probes.readiness) | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: metrics
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/warmpool
      readOnly: true
    - name: inventory
      mountPath: /etc/warmpool/inventory
      readOnly: true
    {{- if .Values.secrets.existingSecret }}
    - name: credentials
      mountPath: /etc/warmpool/secrets
      readOnly: true
    {{- end }}
    {{- if and (eq .Values.mode "gateway") .Values.auth.tls.enabled }}
    - name: tls
      mountPath: /etc/warmpool/tls
      readOnly: true
    {{- end }}
    {{- if and (eq .Values.mode "gateway") .Values.auth.tokens.enabled }}
    - name: tokens
      mountPath: /etc/warmpool/tokens
      readOnly: true
    {{- end }}
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/*
The pod template, shared by the Deployment and the StatefulSet (workload.kind), so that probes,
volumes, topology spread and the sidecar shape are the same whichever kind runs the pods.
Rendered at column 0: the workloads include it with nindent 4 under spec.template.
*/}}
{{- define "warmpool.podTemplate" -}}
metadata:
  labels:
    {{- include "warmpool.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # Roll the pods when the config or the chart-managed inventory changes.
    checksum/config: {{ include "warmpool.config" . | sha256sum }}
    checksum/inventory: {{ toYaml .Values.inventory | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "warmpool.serviceAccountName" . }}
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq .Values.mode "sidecar" }}
  # Native sidecar: starts first, its startupProbe gates the app containers, stops last.
  initContainers:
    {{- include "warmpool.container" . | nindent 4 }}
  {{- if not .Values.app.containers }}
  {{- fail "mode: sidecar needs app.containers (your application's containers)" }}
  {{- end }}
  containers:
    {{- toYaml .Values.app.containers | nindent 4 }}
  {{- else }}
  containers:
    {{- include "warmpool.container" . | nindent 4 }}
  {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "warmpool.fullname" . }}
    - name: inventory
      configMap:
        name: {{ include "warmpool.inventoryConfigMap" . }}
    {{- if .Values.secrets.existingSecret }}
    - name: credentials
      secret:
        secretName: {{ .Values.secrets.existingSecret }}
        defaultMode: 288  # 0440, readable through fsGroup
    {{- end }}
    {{- if and (eq .Values.mode "gateway") .Values.auth.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ required "auth.tls.existingSecret is required when auth.tls.enabled" .Values.auth.tls.existingSecret }}
        defaultMode: 288
    {{- end }}
    {{- if and (eq .Values.mode "gateway") .Values.auth.tokens.enabled }}
    - name: tokens
      secret:
        secretName: {{ required "auth.tokens.existingSecret is required when auth.tokens.enabled" .Values.auth.tokens.existingSecret }}
        defaultMode: 288
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: {{ .Values.tmpSizeLimit }}
    {{- with .Values.app.volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if or .Values.topologySpread.enabled .Values.topologySpread.extraConstraints }}
  topologySpreadConstraints:
    {{- if .Values.topologySpread.enabled }}
    - maxSkew: {{ .Values.topologySpread.maxSkew }}
      topologyKey: {{ .Values.topologySpread.topologyKey }}
      whenUnsatisfiable: {{ .Values.topologySpread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "warmpool.selectorLabels" . | nindent 10 }}
    {{- end }}
    {{- with .Values.topologySpread.extraConstraints }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
The HAProxy balancer (balancer.enabled): <fullname>-lb. Its selector labels differ from the
replicas' (name <name>-lb), so the replicas' Service, PDB and NetworkPolicy never pick its pods.
*/}}
{{- define "warmpool.balancerName" -}}
{{- printf "%s-lb" (include "warmpool.fullname" . | trunc 60 | trimSuffix "-") }}
{{- end }}

{{- define "warmpool.balancerSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-lb" (include "warmpool.name" . | trunc 60 | trimSuffix "-") }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "warmpool.balancerLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "warmpool.balancerSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: balancer
app.kubernetes.io/part-of: {{ include "warmpool.name" . }}
{{- end }}
