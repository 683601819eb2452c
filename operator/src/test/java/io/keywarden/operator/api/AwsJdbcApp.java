package io.keywarden.operator.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An application that uses AWS's JDBC driver as AWS documents it: the URL {@code
 * jdbc-secretsmanager:postgresql://…} and the secret's id as the user, nothing else. Region,
 * endpoint, credentials (container provider) and trust come from the environment alone, as the
 * injector sets it. Run as its own JVM (args: JDBC URL, secret id); reads commands from stdin and
 * prints one JSON line each: {@code connect} opens a new connection (kept open), {@code first}
 * queries on the first connection.
 */
public final class AwsJdbcApp {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    Class.forName("com.amazonaws.secretsmanager.sql.AWSSecretsManagerPostgreSQLDriver");
    String url = args[0];
    String secretId = args[1];
    Connection first = null;
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String command = in.readLine(); command != null; command = in.readLine()) {
      ObjectNode out = JSON.createObjectNode().put("command", command);
      try {
        Connection connection =
            switch (command) {
              case "connect" -> DriverManager.getConnection(url, secretId, null);
              case "first" -> first;
              default -> throw new IllegalArgumentException("unknown command " + command);
            };
        if (first == null) {
          first = connection;
        }
        out.put("ok", true).put("user", currentUser(connection));
      } catch (SQLException | RuntimeException e) {
        out.put("ok", false).put("error", e.getClass().getName() + ": " + e.getMessage());
      }
      System.out.println(out);
      System.out.flush();
    }
  }

  private static String currentUser(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT current_user")) {
      rows.next();
      return rows.getString(1);
    }
  }
}
