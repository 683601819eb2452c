package io.keywarden.operator.managedsecret;

import io.fabric8.kubernetes.api.model.Secret;
import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.operator.config.KeywardenConfig;
import io.keywarden.operator.config.Leadership;
import io.keywarden.operator.kube.EventRecorder;
import io.keywarden.operator.metrics.ScrapeTimeMetrics;
import io.keywarden.operator.versions.CiphertextStore;
import io.keywarden.operator.versions.DeletedSecrets;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import org.jboss.logging.Logger;

/**
 * Purges deleted ManagedSecrets whose recovery window ended. Every replica watches the records (for
 * the metric, through {@link DeletedSecrets}); only the leader purges. Nothing is held in memory
 * that a restart would lose: each record names its own purge time ({@code keywarden.io/purge-at}),
 * and a purge cut short leaves the record, so the next run, on this replica or a new leader,
 * finishes it.
 *
 * <p>The gauge {@code keywarden_managedsecret_purge_timestamp_seconds{namespace,name}} says when
 * each kept secret will be purged.
 */
@ApplicationScoped
public class RecoveryPurger {

  private static final Logger LOG = Logger.getLogger(RecoveryPurger.class);
  static final String PURGE_TIME = "keywarden_managedsecret_purge_timestamp_seconds";

  private final KeywardenConfig config;
  private final DeletedSecrets deleted;
  private final Leadership leadership;
  private final EventRecorder events;
  private ScheduledExecutorService scheduler;

  public RecoveryPurger(
      KeywardenConfig config, DeletedSecrets deleted, Leadership leadership, EventRecorder events) {
    this.config = config;
    this.deleted = deleted;
    this.leadership = leadership;
    this.events = events;
  }

  void start(@Observes StartupEvent event, MeterRegistry registry) {
    ScrapeTimeMetrics.register(
        registry,
        "recovery",
        families -> {
          families.gauge(
              PURGE_TIME,
              "When a deleted ManagedSecret's kept versions are purged (end of its recovery"
                  + " window)",
              "namespace",
              "name");
          for (Secret record : deletedRecords()) {
            var annotations = record.getMetadata().getAnnotations();
            families.add(
                PURGE_TIME,
                DeletedSecrets.purgeAt(record).getEpochSecond(),
                record.getMetadata().getLabels().get(CiphertextStore.LABEL_SECRET_NAMESPACE),
                annotations.get(CiphertextStore.ANNOTATION_SECRET_NAME));
          }
        });
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            BasicThreadFactory.builder()
                .namingPattern("keywarden-recovery-purge")
                .daemon(true)
                .build());
    long interval = config.recovery().purgeInterval().toMillis();
    scheduler.scheduleWithFixedDelay(this::purgeLogged, interval, interval, TimeUnit.MILLISECONDS);
  }

  void stop(@Observes ShutdownEvent event) {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  /** Records of deleted secrets (live secrets have records too, which never purge). */
  private List<Secret> deletedRecords() {
    return deleted.cachedRecords().stream().filter(DeletedSecrets::deleted).toList();
  }

  private void purgeLogged() {
    try {
      purgeExpired(Instant.now());
    } catch (RuntimeException e) {
      // The next run tries again; a failure must not cancel the periodic task.
      LOG.warnf("purging deleted ManagedSecrets failed, retrying next run: %s", e.getMessage());
    }
  }

  /** Purges every record whose purge time has come; only on the leader. */
  void purgeExpired(Instant now) {
    if (!leadership.leading()) {
      return;
    }
    List<Secret> due =
        deletedRecords().stream().filter(r -> !DeletedSecrets.purgeAt(r).isAfter(now)).toList();
    for (Secret record : due) {
      String uid = record.getMetadata().getLabels().get(DeletedSecrets.LABEL_DELETED_UID);
      String secret =
          record.getMetadata().getLabels().get(CiphertextStore.LABEL_SECRET_NAMESPACE)
              + "/"
              + record.getMetadata().getAnnotations().get(CiphertextStore.ANNOTATION_SECRET_NAME);
      deleted.purge(uid);
      String message =
          secret
              + " (uid "
              + uid
              + "): recovery window ended at "
              + DeletedSecrets.purgeAt(record)
              + "; its versions' ciphertext was purged and it can no longer be restored";
      events.normal(record, ManagedSecretConditions.PURGED, message);
      LOG.infof("%s", message);
    }
  }
}
