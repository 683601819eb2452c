# Shared settings for the test-cluster scripts. Sourced, not executed.
# Kubernetes minor: 1.37 is the newest that the Go module registry serves and that builds here.
KEYWARDEN_K8S_VERSION=1.37.2
KEYWARDEN_ETCD_VERSION=3.7.3
KEYWARDEN_HELM_VERSION=3.22.0
KEYWARDEN_CACHE="${KEYWARDEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keywarden}"
# One directory per pinned set, so that bumping a version never mixes old and new binaries.
KEYWARDEN_BIN="${KEYWARDEN_BIN:-$KEYWARDEN_CACHE/bin/k8s-$KEYWARDEN_K8S_VERSION-etcd-$KEYWARDEN_ETCD_VERSION-helm-$KEYWARDEN_HELM_VERSION}"
# The node (test-cluster/up --node): kubelet and kube-scheduler come from the Kubernetes set above;
# containerd, runc and the CNI plugins are pinned in modules/*/go.mod (keep these in step).
KEYWARDEN_CONTAINERD_VERSION=2.4.2
KEYWARDEN_RUNC_VERSION=1.5.3
KEYWARDEN_CNI_PLUGINS_VERSION=1.10.0
# Cluster DNS (modules/coredns), run as a pod by node-up.
KEYWARDEN_COREDNS_VERSION=1.15.0
KEYWARDEN_NODE_BIN="${KEYWARDEN_NODE_BIN:-$KEYWARDEN_CACHE/node/k8s-$KEYWARDEN_K8S_VERSION-containerd-$KEYWARDEN_CONTAINERD_VERSION-runc-$KEYWARDEN_RUNC_VERSION-cni-$KEYWARDEN_CNI_PLUGINS_VERSION-coredns-$KEYWARDEN_COREDNS_VERSION}"
# Only one node can run per machine (one bridge, the kubepods cgroups, machine-wide sysctls):
# test-cluster/up --node holds this lock while its node runs; the file names the holder's state dir.
KEYWARDEN_NODE_LOCK="${KEYWARDEN_NODE_LOCK:-/run/keywarden-test-node.lock}"
KEYWARDEN_NODE_BRIDGE=keywarden0
KEYWARDEN_NODE_SUBNET=10.244.0.0/24
KEYWARDEN_NODE_IP=10.244.0.1
# Services (kube-apiserver --service-cluster-ip-range): 10.0.0.1 is the kubernetes Service, this
# one the kube-dns Service in front of CoreDNS, kubelet's clusterDNS.
KEYWARDEN_SERVICE_CIDR=10.0.0.0/24
KEYWARDEN_CLUSTER_DNS_IP=10.0.0.10
# Local image names: never pulled (tagged, and imported into the node before use).
KEYWARDEN_PAUSE_IMAGE_REPO=keywarden.test/pause
KEYWARDEN_BUSYBOX_IMAGE_REPO=keywarden.test/busybox
KEYWARDEN_COREDNS_IMAGE_REPO=keywarden.test/coredns

# Takes the machine-wide node lock for the cluster in state dir $1, or fails naming the holder;
# with KEYWARDEN_NODE_LOCK_WAIT=SECONDS it first waits that long for the holder to finish.
# A holder process (its pid in $1/pids/node-lock) keeps the lock until node-down ends it, so the
# lock also frees itself if that process is killed.
keywarden_take_node_lock() {
  local dir="$1" fd holder_dir="" holder_pid="" wait="${KEYWARDEN_NODE_LOCK_WAIT:-0}"
  exec {fd}>>"$KEYWARDEN_NODE_LOCK"
  if ! flock -n "$fd"; then
    read -r holder_dir holder_pid < "$KEYWARDEN_NODE_LOCK" || true
    [ "$wait" -gt 0 ] && echo "test-cluster: waiting up to $wait s for the machine's node" \
      "(held by the cluster in ${holder_dir:-unknown})" >&2
    if [ "$wait" -eq 0 ] || ! flock -w "$wait" "$fd"; then
      exec {fd}>&-
      read -r holder_dir holder_pid < "$KEYWARDEN_NODE_LOCK" || true
      echo "test-cluster: another test-cluster node runs on this machine (state dir ${holder_dir:-unknown}," \
        "lock $KEYWARDEN_NODE_LOCK held by pid ${holder_pid:-unknown}); only one node can run per machine." \
        "Stop it with: test-cluster/down ${holder_dir:-DIR}, or start without --node" >&2
      return 1
    fi
  fi
  mkdir -p "$dir/pids"
  setsid sleep infinity >/dev/null 2>&1 < /dev/null &
  echo $! > "$dir/pids/node-lock"
  echo "$dir $!" > "$KEYWARDEN_NODE_LOCK"
  exec {fd}>&-
}
