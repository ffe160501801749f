package dev.anvil.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code anvil}: the command line client of Anvil's REST API. Exit codes: 0 ok, 1 the server refused or failed
 * (its problem detail on stderr), 2 usage or local configuration error, 3 server not reachable, 4 a watched run
 * ended failed or cancelled.
 */
@Command(name = "anvil", mixinStandardHelpOptions = true, versionProvider = AnvilCli.Version.class,
        description = "Anvil's command line client: pipelines, runs, artifacts, datasets, approvals, endpoints, "
                + "rollouts and tokens over the REST API.%n"
                + "Server and token: anvil login (kept in ~/.anvil/config), or ANVIL_SERVER and ANVIL_TOKEN.",
        footer = {"", "Exit codes: 0 ok, 1 refused by the server, 2 usage error, 3 server not reachable, "
                + "4 a watched run failed."},
        subcommands = {LoginCommand.class, PipelinesCommand.class, RunsCommand.class, ArtifactsCommand.class, ModelsCommand.class,
                DatasetsCommand.class, ApprovalsCommand.class, EndpointsCommand.class, RolloutsCommand.class,
                TokensCommand.class, WebhooksCommand.class, CompletionCommand.class, CommandLine.HelpCommand.class})
public class AnvilCli extends GroupCommand {
    private final CliContext context;
    private ApiClient api;

    public AnvilCli(CliContext context) {
        this.context = context;
    }

    public static void main(String[] args) {
        System.exit(new AnvilCli(CliContext.fromProcess()).execute(args));
    }

    /** Runs one command line and returns its exit code. */
    public int execute(String... args) {
        CommandLine cl = new CommandLine(this);
        cl.setOut(context.out());
        cl.setErr(context.err());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CliException ce) {
                cmd.getErr().println("anvil: " + ce.getMessage());
                cmd.getErr().flush();
                return ce.exitCode();
            }
            cmd.getErr().println("anvil: " + ex);
            cmd.getErr().flush();
            return ExitCodes.REFUSED;
        });
        int code = cl.execute(args);
        context.out().flush();
        context.err().flush();
        return code;
    }

    public CliContext context() {
        return context;
    }

    /** The client for the configured server, made on first use so that usage errors never read the config. */
    public ApiClient api() {
        if (api == null) {
            CliConfig config = CliConfig.resolve(context);
            api = new ApiClient(config.server(), config.token());
        }
        return api;
    }

    static class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = AnvilCli.class.getPackage().getImplementationVersion();
            return new String[] {"anvil " + (v == null ? "development build" : v)};
        }
    }
}
