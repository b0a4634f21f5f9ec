// The SQL editor of the query pages: a CodeMirror 6 editor that takes the place of
// `textarea#sql-editor` (which stays in its form, hidden, holding the editor's text), with
// SQLite highlighting, completion of the tables and columns of `data-schema`, Ctrl/Cmd-Enter
// to run the query and a "Format SQL" button. Without JavaScript the textarea works as is.

import { EditorView, keymap, drawSelection } from "@codemirror/view";
import { EditorState, Compartment } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import {
  bracketMatching,
  indentOnInput,
  syntaxHighlighting,
  defaultHighlightStyle,
  HighlightStyle,
} from "@codemirror/language";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { sql, SQLite } from "@codemirror/lang-sql";
import { tags as t } from "@lezer/highlight";
import { formatDialect, sqlite } from "sql-formatter";

const MONO = 'ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace';

// The schema in `data-schema`: {"table": ["column", ...], ...}. Anything else is ignored.
function readSchema(textarea) {
  const raw = textarea.getAttribute("data-schema");
  if (!raw) return {};
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return {};
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return {};
  const schema = {};
  for (const table of Object.keys(parsed)) {
    const columns = Array.isArray(parsed[table]) ? parsed[table].filter((c) => typeof c === "string") : [];
    // lang-sql reads a dot in a key as schema.table; a table's own dots are escaped.
    schema[table.replace(/\./g, "\\.")] = columns;
  }
  return schema;
}

// "12em" from the textarea's inline `style="height: 12em"`, else 8em.
function minHeight(textarea) {
  const h = textarea.style && textarea.style.height;
  return h && /^\d+(\.\d+)?(em|rem|px)$/.test(h.trim()) ? h.trim() : "8em";
}

function baseTheme(height) {
  return EditorView.theme({
    "&": {
      width: "100%",
      maxWidth: "60rem",
      boxSizing: "border-box",
      border: "1px solid #999",
      borderRadius: "2px",
      backgroundColor: "#fff",
      color: "#111",
      fontSize: "0.9rem",
    },
    "&.cm-focused": { outline: "2px solid #276890", outlineOffset: "1px" },
    ".cm-scroller": { fontFamily: MONO, lineHeight: "1.4" },
    ".cm-content, .cm-gutter": { minHeight: height },
    ".cm-content": { padding: "4px 0", caretColor: "#111" },
    ".cm-line": { padding: "0 6px" },
  });
}

const darkTheme = EditorView.theme(
  {
    "&": { backgroundColor: "#1e1f22", color: "#e6e6e6", borderColor: "#555" },
    "&.cm-focused": { outlineColor: "#6cb0e0" },
    ".cm-content": { caretColor: "#fff" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "#fff" },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
      { backgroundColor: "#3a4a66" },
    "&.cm-focused .cm-matchingBracket": { backgroundColor: "#3d5a3d", outline: "1px solid #6a8" },
    "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "#6a2b2b" },
    ".cm-tooltip": { backgroundColor: "#2b2d31", color: "#e6e6e6", border: "1px solid #555" },
    ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "#3a5a88", color: "#fff" },
    ".cm-completionDetail": { color: "#aaa" },
  },
  { dark: true }
);

const darkHighlight = HighlightStyle.define([
  { tag: t.keyword, color: "#cc99ff" },
  { tag: [t.name, t.deleted, t.character, t.macroName], color: "#e6e6e6" },
  { tag: [t.propertyName], color: "#9cdcfe" },
  { tag: [t.function(t.variableName), t.labelName], color: "#61afef" },
  { tag: [t.color, t.constant(t.name), t.standard(t.name)], color: "#e5c07b" },
  { tag: [t.definition(t.name), t.separator], color: "#e6e6e6" },
  { tag: [t.typeName, t.className, t.changed, t.annotation, t.modifier, t.self, t.namespace], color: "#e5c07b" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "#d19a66" },
  { tag: [t.operator, t.operatorKeyword, t.url, t.escape, t.regexp, t.link, t.special(t.string)], color: "#56b6c2" },
  { tag: [t.meta, t.comment], color: "#8b949e", fontStyle: "italic" },
  { tag: [t.string, t.inserted, t.processingInstruction], color: "#98c379" },
  { tag: t.special(t.variableName), color: "#e06c75" },
  { tag: t.strong, fontWeight: "bold" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.invalid, color: "#ff6b6b" },
]);

function colorScheme(dark) {
  return dark
    ? [darkTheme, syntaxHighlighting(darkHighlight)]
    : [syntaxHighlighting(defaultHighlightStyle, { fallback: true })];
}

// Reformats the whole text as one undoable change; leaves it as it is when it can't be parsed.
function formatSql(view) {
  const text = view.state.doc.toString();
  let formatted;
  try {
    formatted = formatDialect(text, { dialect: sqlite });
  } catch (e) {
    return false;
  }
  if (formatted === text) return true;
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: formatted },
    selection: { anchor: Math.min(view.state.selection.main.head, formatted.length) },
    userEvent: "input.format",
    scrollIntoView: true,
  });
  return true;
}

function setUp(textarea) {
  const form = textarea.form || textarea.closest("form");
  const submitButton = form ? form.querySelector('input[type="submit"], button[type="submit"]') : null;
  const label = textarea.getAttribute("aria-label") || "SQL query";
  const schema = readSchema(textarea);
  const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const scheme = new Compartment();
  let view;

  const sync = () => {
    if (view) textarea.value = view.state.doc.toString();
  };

  const submit = () => {
    if (!form) return false;
    sync();
    if (submitButton && submitButton.disabled) return true;
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(submitButton || undefined);
    } else {
      form.submit();
    }
    return true;
  };

  view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        keymap.of([{ key: "Mod-Enter", run: submit, preventDefault: true }]),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        sql({ dialect: SQLite, schema, upperCaseKeywords: false }),
        // The default keymap without indentWithTab: Tab moves the focus on.
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": label, "aria-multiline": "true" }),
        // Earlier themes win: the dark one comes before the base one.
        scheme.of(colorScheme(!!(media && media.matches))),
        baseTheme(minHeight(textarea)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) sync();
        }),
      ],
    }),
  });

  textarea.insertAdjacentElement("afterend", view.dom);
  textarea.style.display = "none";
  if (form) form.addEventListener("submit", sync);
  if (media) {
    const onChange = (e) => view.dispatch({ effects: scheme.reconfigure(colorScheme(e.matches)) });
    if (media.addEventListener) media.addEventListener("change", onChange);
    else if (media.addListener) media.addListener(onChange);
  }

  const button = document.createElement("button");
  button.type = "button";
  button.className = "format-sql";
  button.textContent = "Format SQL";
  button.addEventListener("click", () => {
    formatSql(view);
    view.focus();
  });
  if (submitButton) {
    submitButton.insertAdjacentElement("afterend", button);
    submitButton.insertAdjacentText("afterend", " ");
  } else {
    view.dom.insertAdjacentElement("afterend", button);
  }

  if (textarea.autofocus) view.focus();
  return view;
}

function init() {
  const textarea = document.querySelector("textarea#sql-editor");
  if (!textarea || textarea.dataset.editor === "on") return;
  textarea.dataset.editor = "on";
  setUp(textarea);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}
