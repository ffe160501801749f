package dev.anvil.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "completion", description = "Print a shell completion script: "
        + "source <(anvil completion bash)  (zsh: autoload -U bashcompinit && bashcompinit first).")
public class CompletionCommand extends ApiCommand {
    public enum Shell { bash, zsh }

    @Parameters(paramLabel = "SHELL", description = "bash or zsh (zsh reads the bash script through bashcompinit)")
    Shell shell;

    @Override
    protected void run() {
        out().print(AutoComplete.bash("anvil", spec.root().commandLine()));
        out().flush();
    }
}
