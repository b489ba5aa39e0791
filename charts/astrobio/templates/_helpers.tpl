{{/*
Names, labels and the few derived settings every template shares.
*/}}

{{- define "astrobio.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or just <release> when it already contains the chart name. */}}
{{- define "astrobio.fullname" -}}
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

{{- define "astrobio.selectorLabels" -}}
app.kubernetes.io/name: {{ include "astrobio.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Standard labels; pass a dict with "ctx" (root) and "component". */}}
{{- define "astrobio.labels" -}}
{{ include "astrobio.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: astrobio
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "astrobio.serviceAccountName" -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}

{{/* The Secret pods read store endpoint and keys from. */}}
{{- define "astrobio.storageSecret" -}}
{{- default .Values.storage.secretName .Values.storage.existingSecret -}}
{{- end -}}

{{/* The artifact store of every pod: s3://<storage.bucket>[/<storage.prefix>] (= kube.store_uri). */}}
{{- define "astrobio.storeUri" -}}
{{- $prefix := trimAll "/" (.Values.storage.prefix | default "") -}}
{{- if $prefix -}}{{- printf "s3://%s/%s" .Values.storage.bucket $prefix -}}{{- else -}}{{- printf "s3://%s" .Values.storage.bucket -}}{{- end -}}
{{- end -}}

{{/* true when the chart runs its own MinIO. */}}
{{- define "astrobio.bundledMinio" -}}
{{- if and .Values.minio.enabled (not .Values.storage.endpoint) -}}true{{- end -}}
{{- end -}}

{{- define "astrobio.minioName" -}}
{{- printf "%s-minio" (include "astrobio.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Store endpoint as pods see it: storage.endpoint, or the bundled MinIO's Service. */}}
{{- define "astrobio.endpoint" -}}
{{- if .Values.storage.endpoint -}}
{{- .Values.storage.endpoint -}}
{{- else if include "astrobio.bundledMinio" . -}}
{{- printf "http://%s.%s.svc.cluster.local:9000" (include "astrobio.minioName" .) .Release.Namespace -}}
{{- else -}}
{{- fail "storage: set storage.endpoint (an existing S3/MinIO) or minio.enabled=true (bundled MinIO)" -}}
{{- end -}}
{{- end -}}

{{/* <registry>/<repository>:<tag>; tag defaults to the chart's appVersion. */}}
{{- define "astrobio.image" -}}
{{- $repo := .image.repository -}}
{{- if .image.registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" .image.registry) .image.repository -}}{{- end -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "astrobio.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod and container security settings of every pod the chart runs itself. */}}
{{- define "astrobio.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "astrobio.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
  - ALL
{{- end -}}

{{/* Store env of the chart's own Jobs: by reference to the Secret, never by value. */}}
{{- define "astrobio.storeEnv" -}}
{{- $secret := include "astrobio.storageSecret" . -}}
{{- range $key := list "ASTROBIO_S3_ENDPOINT" "AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY" }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
- name: AWS_REGION
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: AWS_REGION
      optional: true
{{- end -}}

{{/*
What the shipped PyTorchJobs/Experiments were rendered for (files/rendered-for.yaml, written by
`python -m astrobio.deploy.chart`). They are included verbatim, so the release must agree
with them; otherwise the install fails here with the fix, instead of creating jobs that point at
a service account, Secret or image the release does not provide.
*/}}
{{- define "astrobio.checkRenderedFor" -}}
{{- $for := .Files.Get "files/rendered-for.yaml" | fromYaml -}}
{{- $fix := "re-render the chart files for these settings: python -m astrobio.deploy.chart --config <config> --set kube.<key>=<value>" -}}
{{- if ne .Release.Namespace $for.namespace -}}
{{- fail (printf "jobs/experiments: the shipped objects are for namespace %q (kube.namespace) but the release namespace is %q; install with -n %s or %s" $for.namespace .Release.Namespace $for.namespace $fix) -}}
{{- end -}}
{{- if ne (include "astrobio.serviceAccountName" .) $for.serviceAccount -}}
{{- fail (printf "jobs/experiments: the shipped objects use service account %q (kube.service_account) but serviceAccount.name is %q; %s" $for.serviceAccount (include "astrobio.serviceAccountName" .) $fix) -}}
{{- end -}}
{{- if ne (include "astrobio.storeUri" .) $for.storeUri -}}
{{- fail (printf "jobs/experiments: the shipped objects write to %s (kube.store_uri) but storage.bucket/storage.prefix give %s; set them to match or %s" $for.storeUri (include "astrobio.storeUri" .) (replace "kube.<key>=<value>" "kube.store_uri=<uri>" $fix)) -}}
{{- end -}}
{{- if ne (include "astrobio.storageSecret" .) $for.storageSecret -}}
{{- fail (printf "jobs/experiments: the shipped objects read Secret %q (kube.storage_secret) but the release provides %q (storage.existingSecret/secretName); %s" $for.storageSecret (include "astrobio.storageSecret" .) $fix) -}}
{{- end -}}
{{- if ne (include "astrobio.image" (dict "image" .Values.image "ctx" .)) $for.baseImage -}}
{{- fail (printf "jobs/experiments: the shipped objects use images %s/...:%s but image is %s; %s" $for.imageRegistry $for.imageTag (include "astrobio.image" (dict "image" .Values.image "ctx" .)) $fix) -}}
{{- end -}}
{{- end -}}

{{/*
A PyTorchJob or Experiment document (a dict) with the PersistentVolumeClaim dataVolume.existingClaim
mounted read-only at dataVolume.mountPath in every replica's training container, so a config can
name files on it (components.<c>.data.path: /data/...). Unchanged without existingClaim.
*/}}
{{- define "astrobio.mountDataVolume" -}}
{{- $v := .ctx.Values.dataVolume -}}
{{- if $v.existingClaim -}}
{{- $replicas := .doc.spec.pytorchReplicaSpecs -}}
{{- if eq .doc.kind "Experiment" }}{{ $replicas = .doc.spec.trialTemplate.trialSpec.spec.pytorchReplicaSpecs }}{{ end -}}
{{- range $name, $replica := $replicas -}}
{{- $pod := $replica.template.spec -}}
{{- $claim := dict "claimName" $v.existingClaim "readOnly" true -}}
{{- $_ := set $pod "volumes" (append ($pod.volumes | default list) (dict "name" "user-data" "persistentVolumeClaim" $claim)) -}}
{{- range $container := $pod.containers -}}
{{- $mount := dict "name" "user-data" "mountPath" $v.mountPath "readOnly" true -}}
{{- $_ := set $container "volumeMounts" (append ($container.volumeMounts | default list) $mount) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Adds the release's standard labels to a shipped object (dict "ctx" root "obj" object), in place;
labels the renderer already set (name, component, run id) keep their values.
*/}}
{{- define "astrobio.shippedLabels" -}}
{{- $component := default "training" (get (default (dict) .obj.metadata.labels) "app.kubernetes.io/component") -}}
{{- $release := include "astrobio.labels" (dict "ctx" .ctx "component" $component) | fromYaml -}}
{{- $_ := set .obj.metadata "labels" (merge (default (dict) .obj.metadata.labels) $release) -}}
{{- end -}}
