package io.keywarden.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/** One stored version as the status lists it: identity and key metadata, never the value. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretVersion {

  /** AWS Secrets Manager's staging labels; each is on at most one version. */
  public static final String CURRENT = "CURRENT";

  public static final String PREVIOUS = "PREVIOUS";
  public static final String PENDING = "PENDING";

  private String versionId;
  private List<String> stages = new ArrayList<>();
  private String createdDate;
  private String kmsKeyId;
  private Integer keyVersion;

  public SecretVersion() {}

  public SecretVersion(
      String versionId,
      List<String> stages,
      String createdDate,
      String kmsKeyId,
      Integer keyVersion) {
    this.versionId = versionId;
    this.stages = new ArrayList<>(stages);
    this.createdDate = createdDate;
    this.kmsKeyId = kmsKeyId;
    this.keyVersion = keyVersion;
  }

  public String getVersionId() {
    return versionId;
  }

  public void setVersionId(String versionId) {
    this.versionId = versionId;
  }

  public List<String> getStages() {
    return stages;
  }

  public void setStages(List<String> stages) {
    this.stages = stages;
  }

  public String getCreatedDate() {
    return createdDate;
  }

  public void setCreatedDate(String createdDate) {
    this.createdDate = createdDate;
  }

  public String getKmsKeyId() {
    return kmsKeyId;
  }

  public void setKmsKeyId(String kmsKeyId) {
    this.kmsKeyId = kmsKeyId;
  }

  public Integer getKeyVersion() {
    return keyVersion;
  }

  public void setKeyVersion(Integer keyVersion) {
    this.keyVersion = keyVersion;
  }
}
