// Builds the Kubeflow Training Operator v1.9 controller (cmd/training-operator.v1) for the
// cluster tests. Its own module: it pins k8s.io v0.31 and controller-runtime v0.19, which
// cannot share a build list with kube-apiserver v1.36. No source lives here.
module astrobio.local/controlplane/operator

go 1.23

require github.com/kubeflow/training-operator v1.9.3
