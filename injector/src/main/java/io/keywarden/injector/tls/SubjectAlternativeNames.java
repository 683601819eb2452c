package io.keywarden.injector.tls;

import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.util.IPAddress;

/** The names the serving certificate must cover: the Service's DNS names plus configured extras. */
public record SubjectAlternativeNames(List<String> dnsNames, List<String> ipAddresses) {

  public SubjectAlternativeNames {
    dnsNames = List.copyOf(dnsNames);
    ipAddresses = List.copyOf(ipAddresses);
    if (dnsNames.isEmpty()) {
      throw new IllegalArgumentException("at least one DNS name is needed");
    }
  }

  /**
   * The apiserver calls a Service-backed webhook at {@code <service>.<namespace>.svc}; the
   * cluster.local form is for clients that use the full name.
   */
  public static SubjectAlternativeNames of(String service, String namespace, List<String> extras) {
    List<String> dns =
        new ArrayList<>(
            List.of(
                service + "." + namespace + ".svc",
                service + "." + namespace + ".svc.cluster.local"));
    List<String> ips = new ArrayList<>();
    for (String extra : extras) {
      String name = extra.strip();
      // A literal check: resolving the name here would be a DNS lookup.
      List<String> target = IPAddress.isValid(name) ? ips : dns;
      if (!name.isEmpty() && !target.contains(name)) {
        target.add(name);
      }
    }
    return new SubjectAlternativeNames(dns, ips);
  }
}
