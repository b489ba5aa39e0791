{{/*
Gang scheduling and queueing of a shipped PyTorchJob (a dict, changed in place): values
`scheduling.*` mirror `kube.scheduling` of the astrobio config. runPolicy.schedulingPolicy is what
the Training Operator turns into a PodGroup under Volcano or scheduler-plugins; the Kueue label makes
Kueue admit the whole job or none of it. Pass a dict with "job" and "scheduling".
*/}}
{{- define "astrobio.applyScheduling" -}}
{{- $job := .job -}}
{{- $s := .scheduling -}}
{{- $run := $job.spec.runPolicy -}}
{{- $policy := default dict $run.schedulingPolicy -}}
{{- if $s.minAvailable }}{{ $_ := set $policy "minAvailable" (int $s.minAvailable) }}{{ end -}}
{{- if $s.queue }}{{ $_ := set $policy "queue" $s.queue }}{{ end -}}
{{- if $s.scheduleTimeoutSeconds }}{{ $_ := set $policy "scheduleTimeoutSeconds" (int $s.scheduleTimeoutSeconds) }}{{ end -}}
{{- if $s.priorityClass -}}
{{- $_ := set $policy "priorityClass" $s.priorityClass -}}
{{- range $role, $replica := $job.spec.pytorchReplicaSpecs -}}
{{- $_ := set $replica.template.spec "priorityClassName" $s.priorityClass -}}
{{- end -}}
{{- end -}}
{{- if $policy }}{{ $_ := set $run "schedulingPolicy" $policy }}{{ end -}}
{{- if $s.kueueQueue -}}
{{- $_ := set $job.metadata "labels" (merge (dict "kueue.x-k8s.io/queue-name" $s.kueueQueue) (default dict $job.metadata.labels)) -}}
{{- end -}}
{{- end -}}

{{/* true when any scheduling value is set (else the shipped files are included verbatim). */}}
{{- define "astrobio.schedulingSet" -}}
{{- $s := .Values.scheduling -}}
{{- if or $s.minAvailable $s.queue $s.scheduleTimeoutSeconds $s.priorityClass $s.kueueQueue -}}true{{- end -}}
{{- end -}}
