package io.keywarden.operator.rotation;

import io.keywarden.api.v1alpha1.ManagedSecretConditions;
import io.keywarden.api.v1alpha1.RotationStrategy;
import io.keywarden.operator.crypto.SecretValue;
import io.keywarden.operator.failure.RotationFailedException;
import io.keywarden.operator.generate.ValueGenerator;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * A new random value from the secret's own spec.generate; for JSON secrets only the generated keys
 * change. Nothing downstream to set: consumers pick the value up through the API or the agent.
 */
@ApplicationScoped
public class GenerateRotation implements RotationHandler {

  private final ValueGenerator generator;

  public GenerateRotation(ValueGenerator generator) {
    this.generator = generator;
  }

  @Override
  public RotationStrategy.Type type() {
    return RotationStrategy.Type.generate;
  }

  @Override
  public SecretValue newValue(RotationContext context) {
    return regenerate(generator, context);
  }

  static SecretValue regenerate(ValueGenerator generator, RotationContext context) {
    var spec = context.secret().getSpec().getGenerate();
    if (spec == null) {
      throw new RotationFailedException(
          ManagedSecretConditions.ROTATION_NOT_CONFIGURED,
          "spec.generate of ManagedSecret "
              + context.name()
              + " is required to generate rotated values (it was imported with spec.fromSecret)");
    }
    SecretValue current = context.current().get();
    try {
      return generator.generate(spec, Optional.of(current));
    } finally {
      current.wipe();
    }
  }

  @Override
  public void set(RotationContext context) {
    // Nothing downstream.
  }

  @Override
  public void test(RotationContext context) {
    context.pendingValue().wipe();
  }

  @Override
  public void rollback(RotationContext context) {
    // Nothing was set.
  }

  @Override
  public boolean hasDownstream() {
    return false;
  }
}
