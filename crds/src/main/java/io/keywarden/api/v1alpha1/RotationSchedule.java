package io.keywarden.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** When and how the values of one or more ManagedSecrets rotate. */
@Group(KeywardenApi.GROUP)
@Version(KeywardenApi.VERSION)
@Kind("RotationSchedule")
@ShortNames("rsched")
@AdditionalPrinterColumn(
    name = "Schedule",
    jsonPath = ".spec.schedule",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Strategy",
    jsonPath = ".spec.strategy.type",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Next",
    jsonPath = ".status.nextRotationTime",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Last Result",
    jsonPath = ".status.lastResult.result",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class RotationSchedule extends CustomResource<RotationScheduleSpec, RotationScheduleStatus>
    implements Namespaced {

  @Override
  protected RotationScheduleStatus initStatus() {
    return new RotationScheduleStatus();
  }
}
