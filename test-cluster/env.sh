# Shared settings for the test-cluster scripts. Sourced, not executed.
# Kubernetes minor: 1.37 is the newest that the Go module registry serves and that builds here.
KEYWARDEN_K8S_VERSION=1.37.2
KEYWARDEN_ETCD_VERSION=3.7.3
KEYWARDEN_HELM_VERSION=3.22.0
KEYWARDEN_CACHE="${KEYWARDEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keywarden}"
# One directory per pinned set, so that bumping a version never mixes old and new binaries.
KEYWARDEN_BIN="${KEYWARDEN_BIN:-$KEYWARDEN_CACHE/bin/k8s-$KEYWARDEN_K8S_VERSION-etcd-$KEYWARDEN_ETCD_VERSION-helm-$KEYWARDEN_HELM_VERSION}"
