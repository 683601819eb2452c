package io.keywarden.tls;

import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.util.IPAddress;

/** The names a serving certificate must cover: DNS names and IP address literals. */
public record SubjectAlternativeNames(List<String> dnsNames, List<String> ipAddresses) {

  public SubjectAlternativeNames {
    dnsNames = List.copyOf(dnsNames);
    ipAddresses = List.copyOf(ipAddresses);
    if (dnsNames.isEmpty()) {
      throw new IllegalArgumentException("at least one DNS name is needed");
    }
  }

  /**
   * The names of a Service-backed server: {@code <service>.<namespace>.svc} (how the apiserver
   * calls a webhook, and the URL the injector gives agents), the cluster.local form for clients
   * that use the full name, then {@code extras} (configured names, IP literals among them).
   */
  public static SubjectAlternativeNames of(String service, String namespace, List<String> extras) {
    List<String> names =
        new ArrayList<>(
            List.of(
                service + "." + namespace + ".svc",
                service + "." + namespace + ".svc.cluster.local"));
    names.addAll(extras);
    return of(names);
  }

  /** Sorts {@code names} into DNS names and IP literals, dropping blanks and repeats. */
  public static SubjectAlternativeNames of(List<String> names) {
    List<String> dns = new ArrayList<>();
    List<String> ips = new ArrayList<>();
    for (String each : names) {
      String name = each.strip();
      // A literal check: resolving the name here would be a DNS lookup.
      List<String> target = IPAddress.isValid(name) ? ips : dns;
      if (!name.isEmpty() && !target.contains(name)) {
        target.add(name);
      }
    }
    return new SubjectAlternativeNames(dns, ips);
  }
}
