/* The table page's column menus and filter rows. Plain ES2017, no dependencies.
 *
 * Column menus: each th[data-column] of table.rows-and-columns gets a
 * button.col-menu-button that opens div.col-menu (appended to <body>, so the
 * table wrapper's overflow never clips it) holding ul[role=menu] of
 * a.col-menu-item[role=menuitem] links: sort ascending/descending (sortable
 * columns only), facet by this, hide this column (not for keys), show all
 * columns (when _col/_nocol are in the URL), then p.col-menu-info with the
 * column's type.
 *
 * Filter rows: each .filter-row of form.filters gets button.remove-filter;
 * button.add-filter adds a blank row named _filter_column_N/_filter_op_N/
 * _filter_value_N (the server reads any N), after the new-filter row.
 */
(function () {
  'use strict';

  var COG = '<svg aria-hidden="true" focusable="false" width="14" height="14" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="3"></circle><path d="M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06A1.65 1.65 0 0 0 4.68 15a1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06A1.65 1.65 0 0 0 9 4.68a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06A1.65 1.65 0 0 0 19.4 9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z"></path></svg>';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  /* The current URL with `change` applied to a copy of its query; the page token
   * (_next) is always dropped, as any of these changes starts the listing again. */
  function urlWith(change) {
    var params = new URLSearchParams(location.search);
    params.delete('_next');
    change(params);
    var q = params.toString();
    return location.pathname + (q ? '?' + q : '');
  }

  function removeValue(params, key, value) {
    var kept = params.getAll(key).filter(function (v) { return v !== value; });
    params.delete(key);
    kept.forEach(function (v) { params.append(key, v); });
  }

  /* ---- column menus ---- */

  var open = null; // {button, menu}

  function menuItems(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
  }

  function place(button, menu) {
    var r = button.getBoundingClientRect();
    var width = menu.offsetWidth;
    var viewport = document.documentElement.clientWidth;
    var left = Math.max(4, Math.min(r.left, viewport - width - 4));
    menu.style.top = (r.bottom + window.pageYOffset + 2) + 'px';
    menu.style.left = (left + window.pageXOffset) + 'px';
  }

  function closeMenu(returnFocus) {
    if (!open) return;
    var o = open;
    open = null;
    o.menu.hidden = true;
    o.button.setAttribute('aria-expanded', 'false');
    if (returnFocus) o.button.focus();
  }

  function openMenu(button, menu, focusLast) {
    closeMenu(false);
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    place(button, menu);
    open = { button: button, menu: menu };
    var items = menuItems(menu);
    if (items.length) items[focusLast ? items.length - 1 : 0].focus();
  }

  function buildMenu(th, index) {
    var name = th.getAttribute('data-column');
    var type = (th.getAttribute('data-column-type') || '').trim();
    var notNull = th.getAttribute('data-column-not-null') === '1';
    var isPk = th.getAttribute('data-is-pk') === '1';
    var sortable = !!th.querySelector('a[href]');
    var params = new URLSearchParams(location.search);

    var menuId = 'col-menu-' + index;
    var button = el('button', {
      type: 'button',
      'class': 'col-menu-button',
      'aria-label': 'Column actions for ' + name,
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      'aria-controls': menuId
    });
    button.innerHTML = COG;

    var menu = el('div', { 'class': 'col-menu', id: menuId, 'data-column': name });
    menu.hidden = true;
    var list = el('ul', { role: 'menu', 'class': 'col-menu-items', 'aria-label': 'Column ' + name });
    function item(action, label, href) {
      var li = el('li', { role: 'none' });
      var a = el('a', { role: 'menuitem', 'class': 'col-menu-item', 'data-action': action, href: href, tabindex: '-1' }, label);
      li.appendChild(a);
      list.appendChild(li);
    }
    if (sortable) {
      item('sort-asc', 'Sort ascending', urlWith(function (p) {
        p.delete('_sort'); p.delete('_sort_desc'); p.set('_sort', name);
      }));
      item('sort-desc', 'Sort descending', urlWith(function (p) {
        p.delete('_sort'); p.delete('_sort_desc'); p.set('_sort_desc', name);
      }));
    }
    var facetAllowed = window.DATASETTE_ALLOW_FACET !== false;
    if (facetAllowed && params.getAll('_facet').indexOf(name) === -1) {
      item('facet', 'Facet by this', urlWith(function (p) { p.append('_facet', name); }));
    }
    if (!isPk) {
      item('hide', 'Hide this column', urlWith(function (p) {
        removeValue(p, '_col', name);
        removeValue(p, '_nocol', name);
        p.append('_nocol', name);
      }));
    }
    if (params.has('_col') || params.has('_nocol')) {
      item('show-all', 'Show all columns', urlWith(function (p) {
        p.delete('_col'); p.delete('_nocol');
      }));
    }
    menu.appendChild(list);
    if (type || notNull) {
      var info = el('p', { 'class': 'col-menu-info' });
      if (type) info.appendChild(el('span', { 'class': 'col-menu-type' }, 'Type: ' + type));
      if (notNull) info.appendChild(el('span', { 'class': 'col-menu-not-null' }, 'Not null'));
      menu.appendChild(info);
    }
    if (!menuItems(menu).length && !menu.querySelector('.col-menu-info')) return;

    th.classList.add('has-col-menu');
    th.appendChild(button);
    document.body.appendChild(menu);

    button.addEventListener('click', function () {
      if (open && open.menu === menu) closeMenu(true);
      else openMenu(button, menu, false);
    });
    button.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        openMenu(button, menu, e.key === 'ArrowUp');
      }
    });
    menu.addEventListener('keydown', function (e) {
      var items = menuItems(menu);
      var i = items.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (!items.length) return;
        var step = e.key === 'ArrowDown' ? 1 : -1;
        items[(i + step + items.length) % items.length].focus();
      } else if (e.key === 'Home' || e.key === 'End') {
        e.preventDefault();
        if (items.length) items[e.key === 'Home' ? 0 : items.length - 1].focus();
      } else if (e.key === 'Tab') {
        // Leave the menu where it was opened: the browser then moves on from the button.
        closeMenu(true);
      } else if (e.key === ' ' && i !== -1) {
        e.preventDefault();
        items[i].click();
      }
    });
    menu.addEventListener('click', function (e) {
      if (e.target.closest('[role="menuitem"]')) closeMenu(false);
    });
  }

  function initColumnMenus(table) {
    var ths = table.querySelectorAll('thead th[data-column]');
    Array.prototype.forEach.call(ths, function (th, i) {
      // The "Link" column of a rowid or compound-key table links to each row: it is no
      // column of the table, so it has nothing to sort, facet or hide.
      var linkColumn = i === 0 && th.dataset.column === 'Link' && !th.dataset.columnType &&
        !th.querySelector('a');
      if (!linkColumn) buildMenu(th, i);
    });
    document.addEventListener('mousedown', function (e) {
      if (open && !open.menu.contains(e.target) && !open.button.contains(e.target)) closeMenu(false);
    });
    document.addEventListener('focusin', function (e) {
      if (open && !open.menu.contains(e.target) && !open.button.contains(e.target)) closeMenu(false);
    });
    document.addEventListener('keydown', function (e) {
      if (open && e.key === 'Escape') {
        e.preventDefault();
        closeMenu(true);
      }
    });
    window.addEventListener('resize', function () { if (open) place(open.button, open.menu); });
    // The table wrapper scrolls sideways (and the page may too): keep the menu under its button.
    document.addEventListener('scroll', function () { if (open) place(open.button, open.menu); }, true);
  }

  /* ---- filter rows ---- */

  function initFilters(form) {
    var newRows = Array.prototype.filter.call(form.querySelectorAll('.filter-row'), function (row) {
      return row.querySelector('select[name="_filter_column"]');
    });
    if (!newRows.length) return;
    var blank = newRows[newRows.length - 1];
    var template = blank.cloneNode(true);
    var next = 1;
    Array.prototype.forEach.call(form.querySelectorAll('select[name^="_filter_column_"]'), function (s) {
      var n = parseInt(s.name.slice('_filter_column_'.length), 10);
      if (n >= next) next = n + 1;
    });

    var addWrap = el('div', { 'class': 'add-filter-row' });
    var add = el('button', { type: 'button', 'class': 'add-filter' }, '+ Add filter');
    addWrap.appendChild(add);
    blank.parentNode.insertBefore(addWrap, blank.nextSibling);

    function addRemoveButton(row) {
      var col = row.querySelector('select[name^="_filter_column"]');
      if (!col || row.querySelector('.remove-filter')) return;
      var b = el('button', { type: 'button', 'class': 'remove-filter', 'aria-label': 'Remove filter', title: 'Remove filter' }, '\u00d7');
      row.appendChild(b);
      b.addEventListener('click', function () {
        if (row.hasAttribute('data-added-filter')) {
          row.parentNode.removeChild(row);
        } else {
          // A row the server rendered: an empty column tells it to drop the filter.
          col.value = '';
          var value = row.querySelector('input.filter-value, input[name^="_filter_value"]');
          if (value) value.value = '';
          row.hidden = true;
        }
        add.focus();
      });
    }

    Array.prototype.forEach.call(form.querySelectorAll('.filter-row'), addRemoveButton);

    add.addEventListener('click', function () {
      var row = template.cloneNode(true);
      var n = next++;
      row.setAttribute('data-added-filter', '');
      Array.prototype.forEach.call(row.querySelectorAll('select, input'), function (f) {
        var m = /^(_filter_(?:column|op|value))$/.exec(f.name);
        if (m) f.name = m[1] + '_' + n;
        if (f.id) f.id = f.id + '_' + n;
        if (f.tagName === 'SELECT') f.selectedIndex = 0;
        else f.value = '';
      });
      addRemoveButton(row);
      addWrap.parentNode.insertBefore(row, addWrap);
      var first = row.querySelector('select');
      if (first) first.focus();
    });
  }

  function init() {
    var table = document.querySelector('table.rows-and-columns');
    if (table && table.querySelector('thead th[data-column]')) initColumnMenus(table);
    var form = document.querySelector('form.filters');
    if (form) initFilters(form);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
