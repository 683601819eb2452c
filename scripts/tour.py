"""Summaries that `make run` prints, read from kubectl's JSON on stdin."""
import json
import sys


def status(obj):
    st = obj.get("status", {})
    print("currentVersionId:", st.get("currentVersionId"))
    for v in st.get("versions", []):
        print("  version %s stages=%s kmsKeyId=%s keyVersion=%s"
              % (v["versionId"], v.get("stages"), v.get("kmsKeyId"), v.get("keyVersion")))
    for c in st.get("conditions", []):
        print("  condition %s=%s (%s)" % (c["type"], c["status"], c.get("reason")))


def pod(obj):
    spec = obj["spec"]
    for c in spec.get("initContainers", []):
        print("initContainer %s: image=%s restartPolicy=%s startupProbe=%s"
              % (c["name"], c["image"], c.get("restartPolicy"), "yes" if c.get("startupProbe") else "no"))
        for e in c.get("env", []):
            if "valueFrom" in e:
                value = "(from %s)" % json.dumps(e["valueFrom"])
            else:
                value = e.get("value", "")
                value = value.splitlines()[0] + " ..." if "\n" in value else value
            print("  env %s=%s" % (e["name"], value if len(value) < 100 else value[:96] + " ..."))
    for c in spec["containers"]:
        mounts = ", ".join(m["mountPath"] + (" (ro)" if m.get("readOnly") else "") for m in c.get("volumeMounts", []))
        print("container %s: mounts %s" % (c["name"], mounts))
    for v in spec.get("volumes", []):
        kind = [k for k in v if k != "name"][0]
        print("volume %s: %s %s" % (v["name"], kind, json.dumps(v[kind])))


if __name__ == "__main__":
    {"status": status, "pod": pod}[sys.argv[1]](json.load(sys.stdin))
