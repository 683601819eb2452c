package io.keywarden.operator.it;

import io.keywarden.testcluster.QuarkusProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL server from the Debian packages (.ci/run installs them), on a free loopback
 * port with SCRAM authentication, in a temporary directory removed on close. As root it runs as the
 * postgres user, since PostgreSQL refuses to run as root.
 */
public final class PostgresServer implements AutoCloseable {

  public static final String ADMIN = "keywarden_admin";
  public final int port;
  public final String adminPassword = "admin-" + Long.toHexString(System.nanoTime());
  private final Path dir;
  private final Path bin;

  private PostgresServer(Path dir, Path bin, int port) {
    this.dir = dir;
    this.bin = bin;
    this.port = port;
  }

  public static PostgresServer start() throws Exception {
    Path bin;
    try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      bin =
          versions
              .sorted()
              .reduce((a, b) -> b)
              .map(v -> v.resolve("bin"))
              .filter(b -> Files.isExecutable(b.resolve("initdb")))
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "no PostgreSQL server: apt-get install postgresql (.ci/run does)"));
    } catch (IOException e) {
      throw new IllegalStateException(
          "no PostgreSQL server: apt-get install postgresql (.ci/run does)", e);
    }
    Path dir = Files.createTempDirectory("keywarden-pg");
    PostgresServer server = new PostgresServer(dir, bin, QuarkusProcess.freePort());
    Files.writeString(dir.resolve("pwfile"), server.adminPassword + "\n");
    if (root()) {
      run("chown", "-R", "postgres:postgres", dir.toString());
    }
    server.asPostgres(
        bin.resolve("initdb").toString(),
        "-D",
        dir.resolve("data").toString(),
        "-U",
        ADMIN,
        "--pwfile=" + dir.resolve("pwfile"),
        "-A",
        "scram-sha-256",
        "-E",
        "UTF8");
    server.asPostgres(
        bin.resolve("pg_ctl").toString(),
        "-D",
        dir.resolve("data").toString(),
        "-w",
        "-l",
        dir.resolve("log").toString(),
        "-o",
        "-p " + server.port + " -k " + dir + " -c listen_addresses=127.0.0.1",
        "start");
    return server;
  }

  public Connection connect(String user, String password, String database) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("connectTimeout", "5");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port + "/" + database, properties);
  }

  public void admin(String sql) throws SQLException {
    try (Connection connection = connect(ADMIN, adminPassword, "postgres")) {
      connection.createStatement().execute(sql);
    }
  }

  public boolean canLogIn(String user, String password) {
    try (Connection connection = connect(user, password, "postgres")) {
      return connection.isValid(5);
    } catch (SQLException e) {
      return false;
    }
  }

  private void asPostgres(String... command) throws Exception {
    List<String> full = new ArrayList<>();
    if (root()) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(List.of(command));
    run(full.toArray(String[]::new));
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
  }

  private static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  @Override
  public void close() throws Exception {
    try {
      asPostgres(
          bin.resolve("pg_ctl").toString(),
          "-D",
          dir.resolve("data").toString(),
          "-m",
          "immediate",
          "stop");
    } finally {
      run("rm", "-rf", dir.toString());
    }
  }
}
