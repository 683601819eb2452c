package io.keywarden.operator.kms;

/** A configured key alias resolved to the provider that holds it and the provider's key id. */
public record KmsKey(String alias, KmsProvider provider, String providerKeyId) {}
