// Consilium: progressive enhancements only; every page works without this file.
'use strict';
(() => {
  const d = document;
  const $$ = (s, r) => Array.from((r || d).querySelectorAll(s));
  const P = 'consilium:';
  const ls = (f, ...a) => { try { return localStorage[f](...a); } catch (e) { return null; } };

  // 1. Password strength hint (the server stays the authority).
  const COMMON = ['password', 'motdepasse', 'azerty', 'qwerty', '123456', '123123', 'bonjour', 'soleil',
    'admin', 'welcome', 'consilium'];
  const LEET = { 0: 'o', 1: 'i', 3: 'e', 4: 'a', 5: 's', 7: 't', '@': 'a', $: 's', '!': 'i' };
  // Characters inside runs of 3+ repeated or consecutive characters (aaa, abc, 321).
  const runChars = s => {
    let total = 0;
    let len = 1;
    for (let i = 1; i <= s.length; i++) {
      const k = s.charCodeAt(i) - s.charCodeAt(i - 1);
      if (i < s.length && Math.abs(k) <= 1 && (len === 1 || k === s.charCodeAt(i - 1) - s.charCodeAt(i - 2))) len++;
      else {
        if (len >= 3) total += len;
        len = i < s.length && Math.abs(k) <= 1 ? 2 : 1;
      }
    }
    return total;
  };
  function strength(pw, email) {
    if (!pw) return 'empty';
    const low = pw.toLowerCase();
    const plain = low.replace(/[013457@$!]/g, c => LEET[c]);
    const local = (email || '').split('@')[0].toLowerCase();
    const words = COMMON.concat(local.length > 2 ? local : [], local.split(/[._+-]/).filter(w => w.length > 3));
    let rest = low.length - runChars(low);
    words.forEach(w => { if (low.includes(w) || plain.includes(w)) rest -= w.length; });
    const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter(r => r.test(pw)).length;
    const uniq = new Set(low).size;
    if (pw.length < 12 || rest < 10 || uniq < 5) return 'weak';
    if (rest === low.length && uniq >= 8 &&
        ((pw.length >= 14 && classes >= 3) || pw.length >= 20)) return 'strong';
    return 'fair';
  }
  $$('input[data-password-strength]').forEach(inp => {
    const out = d.getElementById(inp.dataset.passwordStrength);
    if (!out) return;
    const email = inp.form && inp.form.querySelector('input[name=email]');
    const update = () => {
      const lvl = strength(inp.value, email && email.value);
      const msg = out.dataset[lvl] || '';
      out.classList.remove('weak', 'fair', 'strong');
      if (lvl !== 'empty') out.classList.add(lvl);
      if (out.textContent !== msg) out.textContent = msg;
    };
    inp.addEventListener('input', update);
    if (email) email.addEventListener('input', () => { if (inp.value) update(); });
    if (inp.value) update();
  });

  // 5. Add a row from a <template>. Index: number of [data-row] children of the
  // container, moved past any index whose id is already in the page; __NUMBER__ in a
  // label is the row's number as people count (index + 1).
  const sub = (v, i) => v.split('__INDEX__').join(i);
  const next = (tpl, box) => {
    let i = Array.from(box.children).filter(c => c.hasAttribute('data-row')).length;
    const probe = tpl.content.querySelector('[id*="__INDEX__"]');
    while (probe && d.getElementById(sub(probe.id, i))) i++;
    return i;
  };
  function addRow(tpl, box) {
    const i = next(tpl, box);
    const frag = tpl.content.cloneNode(true);
    $$('*', frag).forEach(el => ['name', 'id', 'for', 'aria-describedby', 'aria-labelledby'].forEach(a => {
      const v = el.getAttribute(a);
      if (v && v.includes('__INDEX__')) el.setAttribute(a, sub(v, i));
    }));
    $$('label, legend', frag).forEach(el => { el.textContent = el.textContent.split('__NUMBER__').join(i + 1); });
    const first = frag.querySelector('input,select,textarea');
    box.appendChild(frag);
    return first;
  }
  const adders = $$('button[data-add-row]').map(btn => {
    const tpl = d.getElementById(btn.value);
    const box = d.getElementById(btn.dataset.target);
    if (!tpl || !tpl.content || !box) return null;
    btn.hidden = false;
    btn.addEventListener('click', e => {
      e.preventDefault();
      const f = addRow(tpl, box);
      if (f) f.focus();
    });
    return { btn, tpl, box };
  }).filter(Boolean);

  // 2. Autosave long forms to localStorage.
  $$('[data-autosave-clear]').forEach(el => ls('removeItem', P + el.dataset.autosaveClear));
  // Signed out: no draft of any patient stays on this (possibly shared) computer.
  if (d.querySelector('[data-autosave-clear-all]')) {
    try {
      Object.keys(localStorage).filter(k => k.startsWith(P)).forEach(k => localStorage.removeItem(k));
    } catch (e) { /* private mode */ }
  }
  const AT = '\u0000at', MAX_AGE = 12 * 3600 * 1000;
  const SKIP = ['file', 'password', 'hidden', 'submit', 'reset', 'button', 'image'];
  const fields = form => Array.from(form.elements).filter(el => el.name && el.name !== 'csrf_token' &&
    !el.disabled && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) && !SKIP.includes(el.type));
  const isCheck = el => el.type === 'checkbox' || el.type === 'radio';
  const read = el => isCheck(el) ? el.checked : el.value;
  const filled = v => v === true || (typeof v === 'string' && v !== '');
  const named = (form, n) => fields(form).filter(el => el.name === n);
  function restore(form, data) {
    adders.filter(a => form.contains(a.box)).forEach(a => {
      const names = $$('[name]', a.tpl.content).map(el => el.getAttribute('name'));
      for (let g = 0; g < 100; g++) {
        const i = next(a.tpl, a.box);
        if (!names.some(n => {
          const s = data[sub(n, i)] || [];
          let last = s.length;
          while (last && !filled(s[last - 1])) last--;
          return last > named(form, sub(n, i)).length;
        })) break;
        addRow(a.tpl, a.box);
      }
    });
    let done = false;
    const seen = {};
    fields(form).forEach(el => {
      seen[el.name] = (seen[el.name] || 0) + 1;
      const v = (data[el.name] || [])[seen[el.name] - 1];
      if (!filled(v)) return;
      if (isCheck(el)) {
        if (!el.checked && !(el.type === 'radio' && named(form, el.name).some(r => r.checked))) done = el.checked = true;
      } else if (el.value === '') {
        el.value = v;
        done = done || el.value === v;
      }
    });
    return done;
  }
  $$('form[data-autosave]').forEach(form => {
    const key = P + form.dataset.autosave;
    if (form.hasAttribute('data-autosave-restore')) {
      let data = null;
      try { data = JSON.parse(ls('getItem', key)); } catch (e) { /* corrupt: ignore */ }
      const note = d.getElementById('autosave-restored');
      const fresh = data && typeof data === 'object' && Date.now() - ((data[AT] || [])[0] || 0) < MAX_AGE;
      if (!fresh) ls('removeItem', key);
      else if (restore(form, data) && note) note.hidden = false;
    }
    let timer = 0;
    let dirty = false;
    const save = () => {
      clearTimeout(timer);
      timer = 0;
      if (!dirty) return;
      const data = {};
      fields(form).forEach(el => { (data[el.name] = data[el.name] || []).push(read(el)); });
      data[AT] = [Date.now()];
      ls('setItem', key, JSON.stringify(data));
      dirty = false;
    };
    const changed = () => { dirty = true; if (!timer) timer = setTimeout(save, 2000); };
    form.addEventListener('input', changed);
    form.addEventListener('change', changed);
    addEventListener('beforeunload', save);
    d.addEventListener('visibilitychange', () => { if (d.visibilityState === 'hidden') save(); });
  });

  // 6. The chosen topic's staff and next meeting, under the topic (from the form's table).
  $$('[data-route-for]').forEach(out => {
    const sel = d.getElementById(out.dataset.routeFor);
    if (!sel) return;
    const show = () => {
      const row = $$('tr[data-topic]', sel.form || d).find(r => r.dataset.topic === sel.value);
      out.hidden = !row;
      if (row) out.textContent = out.dataset.template.split('{staff}').join(row.dataset.staff)
        .split('{when}').join(row.dataset.when || out.dataset.none);
    };
    sel.addEventListener('change', show);
    if (sel.value) show();
  });

  // 7. The quorum of specialties, counted as the attendance is typed.
  $$('[data-quorum]').forEach(out => {
    const form = out.closest('form');
    const need = Number(out.dataset.quorum);
    const count = () => {
      const seen = new Set($$('input[data-specialty]', form).map(i => i.value.trim().toLowerCase()).filter(Boolean));
      out.textContent = out.dataset.template.split('{count}').join(seen.size);
      out.classList.toggle('quorum-met', seen.size >= need);
    };
    form.addEventListener('input', e => { if (e.target.matches('input[data-specialty]')) count(); });
    count();
  });

  // 3. Confirm before a destructive submission.
  d.addEventListener('click', e => {
    const b = e.target.closest('button[data-confirm]');
    if (b && b.form && !window.confirm(b.dataset.confirm)) e.preventDefault();
  });

  // 4. Error summary: focus it; its links focus (and reveal) the field.
  const sum = d.querySelector('.error-summary');
  if (sum) {
    sum.focus();
    sum.addEventListener('click', e => {
      const a = e.target.closest('a[href^="#"]');
      let t = a && d.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
      if (!t) return;
      e.preventDefault();
      const ctl = 'input,select,textarea,button';
      if (!t.matches(ctl + ',[tabindex]')) t = t.querySelector(ctl) || t;
      const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches;
      (t.closest('.field,fieldset') || t).scrollIntoView({ behavior: smooth ? 'smooth' : 'auto' });
      t.focus({ preventScroll: true });
    });
  }
})();
