// The Manage dialog: create, edit and delete labels, canned responses and macros from the console (the same REST API as integrations; the admin offers the same).
import { h } from '../common/realtime.js';
import { apiList, apiSend } from './api.js';
import { loadMacros } from './macros.js';
import { byId, state } from './state.js';
import { loadLabels } from './triage.js';

const dialog = byId('manage-dialog');

// One kind of object: its REST path, how a row reads, and the form's fields.
const KINDS = {
  labels: {
    path: '/api/v1/labels/',
    title: (x) => x.name,
    fields: [
      { name: 'name', label: 'Name', required: true, maxlength: 40 },
      { name: 'color', label: 'Colour', type: 'color', value: '#64748b' },
    ],
  },
  canned: {
    path: '/api/v1/canned-responses/',
    title: (x) => `/${x.shortcut} — ${x.title}`,
    fields: [
      { name: 'shortcut', label: 'Shortcut (after /)', required: true, maxlength: 40, pattern: '[-a-zA-Z0-9_]+' },
      { name: 'title', label: 'Title', required: true, maxlength: 120 },
      { name: 'body', label: 'Text ({{customer.first_name|there}}, {{agent.name}}, {{article.url}} …)', type: 'textarea', required: true },
    ],
  },
  macros: {
    path: '/api/v1/macros/',
    title: (x) => x.name,
    fields: [
      { name: 'name', label: 'Name', required: true, maxlength: 80 },
      { name: 'body', label: 'Reply (optional; placeholders as in canned responses)', type: 'textarea' },
      { name: 'labels', label: 'Labels to add (comma-separated names)' },
      { name: 'priority', label: 'Priority', type: 'select', options: [['', 'Leave as is'], ['none', 'None'], ['low', 'Low'], ['high', 'High'], ['urgent', 'Urgent']] },
      { name: 'status', label: 'Status', type: 'select', options: [['', 'Leave as is'], ['escalated', 'Hand to the human queue'], ['open', 'Back to the AI'], ['closed', 'Close']] },
    ],
  },
};

const items = { labels: [], canned: [], macros: [] };

function fieldValue(kind, field, item) {
  if (!item) return field.value || '';
  const v = item[field.name];
  if (kind === 'macros' && field.name === 'labels') return (v || []).map((l) => l.name).join(', ');
  return v == null ? '' : String(v);
}

function buildForm(kind, item) {
  const spec = KINDS[kind];
  const form = h('form', { class: 'manage-form', novalidate: 'novalidate' });
  for (const f of spec.fields) {
    const id = `manage-field-${kind}-${f.name}`; // not manage-<kind>-title: the heading has that id
    let input;
    if (f.type === 'textarea') input = h('textarea', { id, name: f.name, rows: '3' });
    else if (f.type === 'select') input = h('select', { id, name: f.name }, ...f.options.map(([v, text]) => h('option', { value: v, text })));
    else input = h('input', { id, name: f.name, type: f.type || 'text' });
    if (f.maxlength) input.maxLength = f.maxlength;
    if (f.required) input.required = true;
    input.value = fieldValue(kind, f, item);
    form.append(h('label', { for: id, text: f.label }), input);
  }
  const error = h('p', { class: 'manage-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small', text: item ? 'Save' : 'Add' });
  const cancel = h('button', { type: 'button', class: 'btn btn-quiet btn-small', text: 'Cancel' });
  cancel.addEventListener('click', () => renderKind(kind));
  form.append(error, h('div', { class: 'manage-buttons' }, save, cancel));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const f of spec.fields) body[f.name] = form.elements[f.name].value;
    if (kind === 'macros') body.labels = body.labels.split(',').map((s) => s.trim()).filter(Boolean);
    try {
      await apiSend(item ? 'PATCH' : 'POST', item ? `${spec.path}${item.id}/` : spec.path, body);
      await reload(kind);
    } catch (err) {
      error.textContent = err.message || 'Could not save.';
    }
  });
  return form;
}

function renderKind(kind, editing) {
  const box = byId(`manage-${kind}`);
  const list = h('ul', { class: 'manage-list' });
  for (const item of items[kind]) {
    const edit = h('button', { type: 'button', class: 'btn btn-outline btn-small', text: 'Edit', 'aria-label': `Edit ${KINDS[kind].title(item)}` });
    const del = h('button', { type: 'button', class: 'btn btn-danger btn-small', text: 'Delete', 'aria-label': `Delete ${KINDS[kind].title(item)}` });
    edit.addEventListener('click', () => renderKind(kind, item));
    del.addEventListener('click', async () => {
      if (!window.confirm(`Delete “${KINDS[kind].title(item)}”?`)) return;
      try {
        await apiSend('DELETE', `${KINDS[kind].path}${item.id}/`);
        await reload(kind);
      } catch (err) {
        box.prepend(h('p', { class: 'manage-error', role: 'alert', text: err.message }));
      }
    });
    list.append(h('li', {}, h('span', { class: 'manage-title', text: KINDS[kind].title(item) }), edit, del));
  }
  const add = h('button', { type: 'button', class: 'btn btn-outline btn-small manage-add', text: 'New…' });
  add.addEventListener('click', () => renderKind(kind, null));
  box.replaceChildren(list, editing !== undefined ? buildForm(kind, editing) : add);
  const first = box.querySelector('form input, form textarea');
  if (editing !== undefined && first) first.focus();
}

// keepForm: the dialog's first load must not wipe a form the agent already opened.
async function reload(kind, keepForm = false) {
  items[kind] = await apiList(KINDS[kind].path);
  if (kind === 'canned') state.canned = items.canned; // the "/" menu uses them at once
  if (kind === 'labels') {
    state.labels = items.labels;
    loadLabels();
  }
  if (kind === 'macros') loadMacros();
  if (!(keepForm && byId(`manage-${kind}`).querySelector('form'))) renderKind(kind);
}

export function bindManage() {
  if (!dialog) return;
  byId('manage-button').addEventListener('click', async () => {
    dialog.showModal();
    for (const k of Object.keys(KINDS)) renderKind(k); // what is known now; the lists follow
    await Promise.all(Object.keys(KINDS).map((k) => reload(k, true).catch(() => renderKind(k))));
  });
  byId('manage-close').addEventListener('click', () => dialog.close());
}
