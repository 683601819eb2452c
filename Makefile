# Keywarden: the two commands a newcomer needs are `make run` and `make test` (see README.md).
.PHONY: run test build crds manifests images docker-images cluster-binaries clean

## Start a local control plane (unless KUBECONFIG names a cluster), install the CRDs and run Keywarden. Ctrl-C stops everything.
## MODE=pods: Keywarden as pods on the local node, exactly as after `helm install` (images built and imported, chart defaults).
# exec: with MODE the recipe needs a shell; exec lets scripts/run replace it, so that a signal to
# make's child (Ctrl-C, kill -TERM, MakeRunIT) reaches the script whose trap stops everything.
run:
	@$(if $(MODE),KEYWARDEN_RUN_MODE=$(MODE)) exec scripts/run

## Everything: build the Kubernetes binaries if needed, start one control plane, run unit and integration tests.
test:
	@scripts/test

## Build all modules without tests.
build:
	./mvnw -B -q install -DskipTests

## Regenerate the CRD YAML under crds/ from the Java model (and the copies made from it: make manifests).
crds:
	./mvnw -B -q install -DskipTests -pl crds -am
	./mvnw -B -q test -pl crds -Dtest=CrdYamlTest -Dkeywarden.crds.update=true -Dsurefire.failIfNoSpecifiedTests=false
	@scripts/manifests

## Copy the CRDs into the Helm chart and render deploy/keywarden.yaml from it (tests fail when these drift).
manifests:
	@scripts/manifests

## Container images of the operator, injector, agent and CSI node plugin (keywarden-csi) as OCI archives in images/target/oci, without Docker or a
## registry (images/README.md). CONTAINERD=<socket> also imports them there (namespace k8s.io; CTR=<ctr binary>);
## CLUSTER=<state dir of test-cluster/up --node> imports them into that node's containerd.
## IMAGE_PREFIX and IMAGE_TAG override the names (default: the Helm chart's ghcr.io/keywarden/<name>:0.1.0).
IMAGE_PREFIX ?= ghcr.io/keywarden
IMAGE_TAG ?= 0.1.0
CTR ?= ctr
images:
	./mvnw -B -q package -DskipTests -pl operator,injector,agent,csi -am
	IMAGE_PREFIX=$(IMAGE_PREFIX) IMAGE_TAG=$(IMAGE_TAG) images/bin/build-images $(if $(CONTAINERD),--import $(CONTAINERD) --ctr $(CTR)) $(if $(CLUSTER),--cluster $(CLUSTER))

## The same images with Docker, from the Dockerfiles in each module's src/main/docker/ (Debian-based JRE images).
docker-images:
	./mvnw -B -q package -DskipTests
	docker build -f operator/src/main/docker/Dockerfile.jvm -t $(IMAGE_PREFIX)/operator:$(IMAGE_TAG) .
	docker build -f injector/src/main/docker/Dockerfile.jvm -t $(IMAGE_PREFIX)/injector:$(IMAGE_TAG) .
	docker build -f agent/src/main/docker/Dockerfile -t $(IMAGE_PREFIX)/agent:$(IMAGE_TAG) .
	docker build -f csi/src/main/docker/Dockerfile -t $(IMAGE_PREFIX)/keywarden-csi:$(IMAGE_TAG) .

## Build etcd, kube-apiserver, kube-controller-manager, kubectl and helm into ~/.cache/keywarden (once).
cluster-binaries:
	@test-cluster/build

clean:
	./mvnw -B -q clean
