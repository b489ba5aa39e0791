// Builds Katib v0.19.0's controller (cmd/katib-controller/v1beta1) with its webhooks for the
// cluster tests. Its own module: it pins k8s.io v0.34 and controller-runtime v0.22.
// No source lives here.
module astrobio.local/controlplane/katib

go 1.24.0

require github.com/kubeflow/katib v0.19.0
