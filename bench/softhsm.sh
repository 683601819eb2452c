# Sourced by bench/run-*: a SoftHSM2 token of the bench's own (token directory under bench/target),
# never the machine's. Exports SOFTHSM2_CONF, BENCH_PKCS11_TOKEN and BENCH_PKCS11_PIN_FILE.
if [ ! -f /usr/lib/softhsm/libsofthsm2.so ] || ! command -v softhsm2-util >/dev/null; then
  echo "SoftHSM2 is missing: installing it (apt-get install -y softhsm2)" >&2
  apt-get install -y softhsm2 >/dev/null || { apt-get update >/dev/null && apt-get install -y softhsm2 >/dev/null; }
fi
softhsm_dir="$root/bench/target/softhsm2"
rm -rf "$softhsm_dir"
mkdir -p "$softhsm_dir/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
  "$softhsm_dir/tokens" > "$softhsm_dir/softhsm2.conf"
export SOFTHSM2_CONF="$softhsm_dir/softhsm2.conf"
export BENCH_PKCS11_TOKEN=keywarden-bench
export BENCH_PKCS11_PIN_FILE="$softhsm_dir/pin"
(umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$BENCH_PKCS11_PIN_FILE")
softhsm2-util --init-token --free --label "$BENCH_PKCS11_TOKEN" --pin "$(cat "$BENCH_PKCS11_PIN_FILE")" \
  --so-pin "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >/dev/null
echo "SoftHSM2 token '$BENCH_PKCS11_TOKEN' in $softhsm_dir/tokens (SOFTHSM2_CONF=$SOFTHSM2_CONF)"
