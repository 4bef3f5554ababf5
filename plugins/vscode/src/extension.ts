// The VS Code extension: the editor's side of HausKI's editor endpoints.
// Everything decided lives in the daemon; this file only wires VS Code's
// APIs to the small modules beside it (edits, hints, git, panel), which are
// tested without an editor.

import * as vscode from "vscode";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

import { HausKiClient } from "../../shared/client";
import { EditTally } from "./edits";
import { diffAgainstBase } from "./git";
import { toDiagnostics } from "./hints";
import { draftHtml } from "./panel";

/** How often gathered edits go to the daemon. */
const FLUSH_MS = 3000;

function settings() {
  const config = vscode.workspace.getConfiguration("hauski");
  return {
    url: config.get<string>("url", "http://127.0.0.1:8088"),
    token: config.get<string>("token", "") || undefined,
    speech: config.get<boolean>("speech", false),
    commentary: config.get<boolean>("commentary", true),
    baseBranch: config.get<string>("baseBranch", "") || undefined,
  };
}

function client(): HausKiClient {
  const { url, token } = settings();
  return new HausKiClient({ baseUrl: url, token });
}

function workspaceFolder(): vscode.WorkspaceFolder | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  return (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
}

async function draftPr(): Promise<void> {
  const folder = workspaceFolder();
  if (!folder) {
    void vscode.window.showErrorMessage("HausKI: open a folder with a git repository to draft a PR");
    return;
  }
  try {
    const diff = await diffAgainstBase(folder.uri.fsPath, settings().baseBranch);
    const draft = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "HausKI drafts the PR…" },
      () => client().draftPr(diff),
    );
    const panel = vscode.window.createWebviewPanel("hauskiPrDraft", "PR draft", vscode.ViewColumn.Beside, {
      enableScripts: true,
    });
    panel.webview.html = draftHtml(draft, randomBytes(16).toString("base64"));
  } catch (error) {
    void vscode.window.showErrorMessage(`HausKI: ${(error as Error).message}`);
  }
}

async function refreshHints(diagnostics: vscode.DiagnosticCollection, document: vscode.TextDocument) {
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  const relative = folder ? path.relative(folder.uri.fsPath, document.uri.fsPath) : document.fileName;
  const hints = await client().hints({
    path: relative,
    text: document.getText(),
    language: document.languageId,
  });
  diagnostics.set(
    document.uri,
    toDiagnostics(hints, document.lineCount).map((d) => {
      const range = new vscode.Range(d.startLine, 0, d.endLine, document.lineAt(d.endLine).text.length);
      const severity =
        d.severity === "warning" ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
      const diagnostic = new vscode.Diagnostic(range, d.message, severity);
      diagnostic.source = d.source;
      return diagnostic;
    }),
  );
}

export function activate(context: vscode.ExtensionContext): void {
  const diagnostics = vscode.languages.createDiagnosticCollection("hauski");
  const tally = new EditTally();
  const output = vscode.window.createOutputChannel("HausKI");
  let warnedDown = false;

  const hintsFor = (document: vscode.TextDocument) =>
    refreshHints(diagnostics, document).catch((error: Error) => output.appendLine(`hints: ${error.message}`));

  const flush = async () => {
    const { commentary, speech } = settings();
    const summaries = tally.flush(workspaceFolder()?.name ?? "default", speech);
    if (!commentary) return;
    for (const summary of summaries) {
      try {
        const answer = await client().commentary(summary);
        warnedDown = false;
        if (answer.comment) void vscode.window.showInformationMessage(`HausKI: ${answer.comment}`);
      } catch (error) {
        // Said once, not on every flush while the daemon is away.
        if (!warnedDown) void vscode.window.showWarningMessage(`HausKI: ${(error as Error).message}`);
        warnedDown = true;
      }
    }
  };
  const timer = setInterval(() => void flush(), FLUSH_MS);

  context.subscriptions.push(
    diagnostics,
    output,
    { dispose: () => clearInterval(timer) },
    vscode.commands.registerCommand("hauski.draftPr", draftPr),
    vscode.commands.registerCommand("hauski.hints", async () => {
      const document = vscode.window.activeTextEditor?.document;
      if (!document) return;
      try {
        await refreshHints(diagnostics, document);
      } catch (error) {
        void vscode.window.showErrorMessage(`HausKI: ${(error as Error).message}`);
      }
    }),
    vscode.workspace.onDidSaveTextDocument(hintsFor),
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.document.uri.scheme !== "file" || event.contentChanges.length === 0) return;
      tally.add(
        vscode.workspace.asRelativePath(event.document.uri),
        event.contentChanges.map((c) => ({
          startLine: c.range.start.line,
          rangeLength: c.rangeLength,
          rangeLines: c.range.end.line - c.range.start.line,
          text: c.text,
        })),
      );
    }),
  );
}

export function deactivate(): void {}
