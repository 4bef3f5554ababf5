// The Obsidian plugin: HausKI's ideas on a canvas, and questions answered
// from the vault's index in a side panel. The logic is in canvas.ts and
// answer.ts, tested without Obsidian.

import { ItemView, MarkdownRenderer, Notice, Plugin, PluginSettingTab, Setting, TFile, WorkspaceLeaf } from "obsidian";

import { HausKiClient } from "../../shared/client";
import { answerMarkdown } from "./answer";
import { addSuggestions, canvasProblem, parseCanvas, removeSuggestions } from "./canvas";

interface Settings {
  url: string;
  token: string;
}

const DEFAULTS: Settings = { url: "http://127.0.0.1:8088", token: "" };
const VIEW = "hauski-answer";

class AnswerView extends ItemView {
  constructor(leaf: WorkspaceLeaf, private readonly plugin: HausKiPlugin) {
    super(leaf);
  }
  getViewType() {
    return VIEW;
  }
  getDisplayText() {
    return "HausKI";
  }
  async show(markdown: string) {
    this.contentEl.empty();
    await MarkdownRenderer.render(this.app, markdown, this.contentEl, "", this.plugin);
  }
}

export default class HausKiPlugin extends Plugin {
  settings: Settings = DEFAULTS;

  client(): HausKiClient {
    return new HausKiClient({ baseUrl: this.settings.url, token: this.settings.token || undefined });
  }

  async onload() {
    this.settings = { ...DEFAULTS, ...(await this.loadData()) };
    this.addSettingTab(new HausKiSettings(this));
    this.registerView(VIEW, (leaf) => new AnswerView(leaf, this));
    this.addCommand({
      id: "suggest-with-hausski",
      name: "Suggest with HausKI",
      checkCallback: (checking) => this.onCanvas(checking, (file) => this.suggest(file)),
    });
    this.addCommand({
      id: "undo-hausski-suggestions",
      name: "Remove HausKI's suggestions",
      checkCallback: (checking) => this.onCanvas(checking, (file) => this.undo(file)),
    });
    this.addCommand({
      id: "ask-hausski-about-this-note",
      name: "Ask HausKI about this note",
      checkCallback: (checking) => {
        const file = this.app.workspace.getActiveFile();
        if (!file || file.extension !== "md") return false;
        if (!checking) void this.askAbout(file);
        return true;
      },
    });
  }

  private onCanvas(checking: boolean, act: (file: TFile) => Promise<void>): boolean {
    const file = this.app.workspace.getActiveFile();
    if (!file || file.extension !== "canvas") return false;
    if (!checking) act(file).catch((error: Error) => new Notice(`HausKI: ${error.message}`));
    return true;
  }

  private async suggest(file: TFile) {
    const canvas = parseCanvas(await this.app.vault.read(file));
    const suggested = await this.client().canvasSuggest(canvas);
    const merged = addSuggestions(canvas, suggested);
    const problem = canvasProblem(merged);
    if (problem) throw new Error(`the suggestions would break the canvas (${problem}); nothing was changed`);
    await this.app.vault.modify(file, JSON.stringify(merged, null, "\t"));
    new Notice(`HausKI added ${merged.nodes.length - canvas.nodes.length} ideas (undo: "Remove HausKI's suggestions")`);
  }

  private async undo(file: TFile) {
    const canvas = parseCanvas(await this.app.vault.read(file));
    await this.app.vault.modify(file, JSON.stringify(removeSuggestions(canvas), null, "\t"));
  }

  private async askAbout(file: TFile) {
    const question = `What does my note "${file.basename}" say, and what relates to it?`;
    const answer = await this.client()
      .ask(question)
      .catch((error: Error) => ({ text: error.message, sources: [] }));
    const leaf = this.app.workspace.getRightLeaf(false);
    if (!leaf) return;
    await leaf.setViewState({ type: VIEW, active: true });
    const view = leaf.view;
    if (view instanceof AnswerView) await view.show(answerMarkdown(question, answer));
  }
}

class HausKiSettings extends PluginSettingTab {
  constructor(private readonly plugin: HausKiPlugin) {
    super(plugin.app, plugin);
  }
  display() {
    this.containerEl.empty();
    const save = () => this.plugin.saveData(this.plugin.settings);
    new Setting(this.containerEl)
      .setName("Daemon URL")
      .setDesc("HausKI's side API (hauski serve --listen)")
      .addText((text) =>
        text.setValue(this.plugin.settings.url).onChange(async (value) => {
          this.plugin.settings.url = value.trim();
          await save();
        }),
      );
    new Setting(this.containerEl)
      .setName("Token")
      .setDesc("The bearer token hauski serve --token was started with, if any")
      .addText((text) =>
        text.setValue(this.plugin.settings.token).onChange(async (value) => {
          this.plugin.settings.token = value.trim();
          await save();
        }),
      );
  }
}
