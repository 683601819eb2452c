# Sourced by bench/run-*: builds this module and what it needs (the operator's Quarkus app is what
# ReadyAtScale runs). BENCH_SKIP_BUILD=1 reuses what is built, e.g. while a test run uses operator/target.
if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  ./mvnw -B -q install -DskipTests -pl bench -am
fi
