package io.keywarden.bench.restvsvertx;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** A GetSecretValue answer in the AWS shape. */
public record ValueAnswer(
    @JsonProperty("ARN") String arn,
    @JsonProperty("Name") String name,
    @JsonProperty("Namespace") String namespace,
    @JsonProperty("VersionId") String versionId,
    @JsonProperty("VersionStages") List<String> versionStages,
    @JsonProperty("SecretString") String secretString,
    @JsonProperty("CreatedDate") String createdDate) {}
