'use strict';

// MineralSync read-only dashboard.
// Every string from the node reaches the page through textContent or attribute setters, never
// innerHTML, so registry data cannot inject markup; the page needs no inline script or style.
(() => {
  const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
  const SEVERITY_RANK = new Map(SEVERITIES.map((severity, index) => [severity, index]));
  const REFRESH_MS = 5000;
  const NEW_BADGE_MS = 60000;
  const FIRST_PAINT_ALERT_ROWS = 100;
  const CERT_WARNING_DAYS = 14;
  const PALETTE_SIZE = 10;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const DASH = '—';

  const state = {
    alerts: new Map(), // id → AlertItem
    reserves: new Map(), // participant \0 mineral \0 site → ReserveItem
    targets: [],
    targetsJSON: '',
    minerals: new Map(), // id → display name
    status: null,
    peers: [],
    statusAt: null,
    statusError: null,
    snapshotLoaded: false,
    snapshotError: null,
    freshAlerts: new Map(), // alert id → when it arrived on the live stream
    announcements: [],
    reserveFilter: '',
    streamProblem: null,
    markScheduled: false,
    alertsTruncated: false,
    renderedOnce: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- formatting

  const shown = (value) => (value === null || value === undefined || value === '' ? DASH : String(value));

  const ISO_UTC = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d)?(\.\d+)?Z$/;

  // The node speaks UTC and so does the dashboard: allies read it in many time zones.
  function formatTime(iso) {
    if (!iso) return DASH;
    const match = ISO_UTC.exec(iso);
    if (match) return `${match[1]} ${match[2]}`;
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(0, 16).replace('T', ' ');
  }

  // Thousands separators on a canonical decimal string, without a round trip through floats.
  function groupDigits(decimal) {
    const text = String(decimal);
    const match = /^(\d+)(\.\d+)?$/.exec(text);
    if (!match) return text;
    return match[1].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (match[2] || '');
  }

  // At most `decimals` fraction digits, trailing zeros dropped, thousands separated. (Not Intl:
  // its first use loads locale data, a cost paid on the first paint.)
  function formatNumber(value, decimals) {
    let text = value.toFixed(decimals);
    if (decimals > 0) text = text.replace(/\.?0+$/, '');
    if (text === '-0') text = '0';
    const negative = text.startsWith('-');
    const grouped = groupDigits(negative ? text.slice(1) : text);
    return negative ? `-${grouped}` : grouped;
  }

  function formatTonnes(tonnes) {
    const size = Math.abs(tonnes);
    return `${formatNumber(tonnes, size >= 1000 ? 0 : size >= 1 ? 1 : 3)} t`;
  }

  function formatPercent(ratio) {
    const percent = ratio * 100;
    return `${formatNumber(percent, percent < 10 ? 1 : 0)}%`;
  }

  function toTonnes(quantity, unit) {
    const amount = Number(quantity);
    if (!Number.isFinite(amount)) return NaN;
    if (unit === 't') return amount;
    if (unit === 'kg') return amount / 1000;
    return NaN;
  }

  const severityClass = (severity) => (SEVERITY_RANK.has(severity) ? severity : 'unknown');
  const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  // ---------------------------------------------------------------- DOM helpers

  function h(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    return node;
  }

  function cell(row, value, className) {
    const td = h('td', className, shown(value));
    row.append(td);
    return td;
  }

  function timeCell(row, iso, className) {
    const td = h('td', className);
    setTime(td, iso);
    row.append(td);
    return td;
  }

  function setTime(td, iso) {
    if (iso) {
      const time = document.createElement('time');
      time.dateTime = iso;
      time.textContent = formatTime(iso);
      td.append(time);
    } else {
      td.textContent = DASH;
    }
  }

  // `numeric`: the indexes of right-aligned (number) columns, whose headings align with them.
  function headerRow(labels, numeric) {
    const thead = h('thead');
    const row = h('tr');
    for (const [index, label] of labels.entries()) {
      const th = h('th', numeric && numeric.includes(index) ? 'num' : '', label);
      th.scope = 'col';
      row.append(th);
    }
    thead.append(row);
    return thead;
  }

  function table(id, captionText, labels, className, numeric) {
    const node = h('table', className);
    if (id) node.id = id;
    node.append(h('caption', '', captionText), headerRow(labels, numeric));
    return node;
  }

  // ---------------------------------------------------------------- render scheduling

  const dirty = new Set();
  let flushPending = false;

  // Bursts of events (a peer catching up sends thousands) cost one render per frame, not per event.
  function invalidate(...parts) {
    for (const part of parts) dirty.add(part);
    if (flushPending) return;
    flushPending = true;
    if (document.hidden) setTimeout(flush, 100);
    else requestAnimationFrame(flush);
  }

  // In this order: what the duty officer looks at first, first.
  const renderers = [
    ['header', renderHeader],
    ['alerts', renderAlertBoard],
    ['chart', renderTotalsChart],
    ['resolved', renderResolvedAlerts],
    ['reserves', renderReserves],
    ['reserveRows', patchReserves],
    ['peers', renderPeers],
    ['security', renderSecurityEvents],
  ];
  const DEFERRED_AT_FIRST = new Set(['resolved', 'reserves', 'reserveRows']);

  function flush() {
    flushPending = false;
    const first = !state.renderedOnce && state.snapshotLoaded;
    for (const [part, render] of renderers) {
      // The first paint shows open alerts and the chart; resolved alerts and the long reserves
      // table follow a frame later.
      if (!dirty.has(part) || (first && DEFERRED_AT_FIRST.has(part))) continue;
      dirty.delete(part);
      render();
    }
    announce();
    if (first && !state.markScheduled) markRendered();
  }

  function afterPaint(callback) {
    if (document.hidden) setTimeout(callback, 0);
    else requestAnimationFrame(() => setTimeout(callback, 0));
  }

  // The moment the board and chart are first on screen (after the frame that paints them): the
  // browser check's render-time figure. Then the rest of the page is drawn.
  let signalFirstPaint;
  const firstPainted = new Promise((resolve) => { signalFirstPaint = resolve; });

  function markRendered() {
    state.markScheduled = true;
    afterPaint(() => {
      state.renderedOnce = true;
      signalFirstPaint();
      window.__dashboardRenderedAt = performance.now();
      performance.mark('dashboard-rendered');
      document.documentElement.dataset.rendered = 'true';
      if (state.alertsTruncated) dirty.add('alerts');
      invalidate();
    });
  }

  // ---------------------------------------------------------------- header

  function renderHeader() {
    const status = state.status;
    const setFact = (id, text, title) => {
      const node = $(id);
      node.textContent = shown(text);
      if (title) node.title = title;
      else node.removeAttribute('title');
    };
    if (status) {
      setFact('fact-node', status.node);
      setFact('fact-participant', status.participant);
      const digest = status.viewDigest ? String(status.viewDigest) : '';
      setFact('fact-digest', digest.slice(0, 12), digest);
      setFact('fact-writable', status.writable === false ? 'no — writes paused' : 'yes');
      $('fact-writable').classList.toggle('bad', status.writable === false);
      setFact('fact-entries', typeof status.entries === 'number' ? groupDigits(status.entries) : status.entries);
      setFact('fact-peers', `${shown(status.peersConnected)} of ${shown(status.peersConfigured)} connected`);
      $('fact-peers').classList.toggle('bad', Number(status.peersConnected) < Number(status.peersConfigured));
      document.title = `${openCriticalTitle()}MineralSync — ${status.node}`;
    }
    const updated = state.statusAt ? `${state.statusAt.toISOString().slice(11, 19)} UTC` : DASH;
    setFact('fact-updated', state.statusError ? `${updated} (stale)` : updated);
    $('fact-updated').classList.toggle('bad', Boolean(state.statusError));

    const warnings = [];
    if (state.statusError) warnings.push(`The node is not answering: ${state.statusError}. Figures below may be stale.`);
    if (state.streamProblem) warnings.push(`Live updates are interrupted: ${state.streamProblem}. Figures below may be stale.`);
    if (status) {
      if (status.writable === false) warnings.push('This node is not writable: a peer claims more of its feed and the proof has not arrived yet.');
      if (status.clockWarning) warnings.push(`Clock: ${status.clockWarning}`);
      // Paging is down when a hook fails: the people on duty may not be told of what this page shows.
      for (const hook of Array.isArray(status.hooks) ? status.hooks : []) {
        if (hook && hook.retryingSince) {
          const on = hook.failingEvent ? ` on ${hook.failingEvent}` : '';
          warnings.push(`Hook ${hook.name} is failing${on} since ${formatTime(hook.retryingSince)} UTC (${hook.queued} events waiting): ${hook.lastError || 'no reason given'}.`);
        }
      }
      const expires = Date.parse(status.certificateExpiresAt);
      if (Number.isFinite(expires) && expires - Date.now() < CERT_WARNING_DAYS * 86400000) {
        const verb = expires < Date.now() ? 'expired' : 'expires';
        warnings.push(`This node's certificate ${verb} ${formatTime(status.certificateExpiresAt)} UTC.`);
      }
    }
    const list = $('node-warnings');
    const fragment = document.createDocumentFragment();
    for (const warning of warnings) fragment.append(h('li', '', warning));
    list.replaceChildren(fragment);
    list.hidden = warnings.length === 0;
  }

  function openCriticalTitle() {
    let critical = 0;
    for (const alert of state.alerts.values()) if (!alert.resolved && alert.severity === 'critical') critical += 1;
    return critical ? `(${critical} critical) ` : '';
  }

  function setStreamProblem(problem) {
    if (state.streamProblem === problem) return;
    state.streamProblem = problem;
    if (problem) setLive('reconnecting');
    invalidate('header');
  }

  function setLive(connection) {
    const indicator = $('live-indicator');
    indicator.dataset.state = connection;
    const texts = { connecting: 'Live updates: connecting…', connected: 'Live updates: connected', reconnecting: 'Live updates: reconnecting…' };
    $('live-text').textContent = texts[connection];
  }

  // ---------------------------------------------------------------- alert board

  function compareOpenAlerts(a, b) {
    const rank = (SEVERITY_RANK.get(a.severity) ?? SEVERITIES.length) - (SEVERITY_RANK.get(b.severity) ?? SEVERITIES.length);
    if (rank) return rank;
    if (a.raisedAt !== b.raisedAt) return a.raisedAt < b.raisedAt ? 1 : -1;
    return a.id < b.id ? -1 : 1;
  }

  function compareResolvedAlerts(a, b) {
    if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? 1 : -1;
    return a.id < b.id ? -1 : 1;
  }

  const alertTemplates = new Map();

  function alertRowTemplate(resolved) {
    let template = alertTemplates.get(resolved);
    if (!template) {
      template = h('tr');
      const severity = h('td');
      severity.append(h('span'));
      const summary = h('td', 'summary');
      summary.append(h('span', 'summary-text'));
      template.append(severity, h('td', 'mineral'), h('td'), h('td'), summary, h('td', 'nowrap'), h('td', 'nowrap'));
      if (resolved) template.append(h('td', 'nowrap'), h('td'));
      template.append(h('td'));
      alertTemplates.set(resolved, template);
    }
    return template;
  }

  function alertRow(alert, resolved) {
    const row = alertRowTemplate(resolved).cloneNode(true);
    const severity = severityClass(alert.severity);
    row.className = `alert sev-${severity}`;
    row.dataset.alertId = alert.id;
    const severityTd = row.firstChild;
    severityTd.firstChild.className = `sev sev-${severity}`;
    severityTd.firstChild.textContent = shown(alert.severity);
    const mineral = severityTd.nextSibling;
    mineral.textContent = shown(alert.mineral);
    const category = mineral.nextSibling;
    category.textContent = shown(alert.category);
    const region = category.nextSibling;
    region.textContent = shown(alert.region);
    const summary = region.nextSibling;
    summary.firstChild.textContent = shown(alert.summary);
    if (state.freshAlerts.has(alert.id)) {
      summary.append(' ', h('span', 'badge-new', 'NEW'));
      row.classList.add('fresh');
    }
    if (alert.expiresAt && !alert.resolved) {
      const expired = Date.parse(alert.expiresAt) < Date.now();
      summary.append(h('span', 'expiry', `${expired ? 'expired' : 'expires'} ${formatTime(alert.expiresAt)}`));
    }
    const issuer = summary.nextSibling;
    issuer.textContent = shown(alert.issuer);
    const raised = issuer.nextSibling;
    setTime(raised, alert.raisedAt);
    let next = raised.nextSibling;
    if (resolved) {
      setTime(next, alert.updatedAt);
      next = next.nextSibling;
      next.textContent = shown(alert.resolution);
      next = next.nextSibling;
    }
    const acks = Array.isArray(alert.acknowledgedBy) ? alert.acknowledgedBy : [];
    next.textContent = acks.length ? acks.join(', ') : 'none';
    if (!acks.length) next.className = 'muted';
    return row;
  }

  const OPEN_COLUMNS = ['Severity', 'Mineral', 'Category', 'Region', 'Summary', 'Issuer', 'Raised (UTC)', 'Acknowledged by'];
  const OPEN_WIDTHS = ['sev', 'mineral', 'category', 'region', 'summary', 'node', 'time', 'acks'];
  const RESOLVED_COLUMNS = ['Severity', 'Mineral', 'Category', 'Region', 'Summary', 'Issuer', 'Raised (UTC)', 'Resolved (UTC)', 'Resolution', 'Acknowledged by'];
  const RESOLVED_WIDTHS = ['sev', 'mineral', 'category', 'region', 'summary', 'node', 'time', 'time', 'resolution', 'acks'];

  // Column widths come from CSS classes on <col>: fixed table layout then needs no pass over
  // every row, and the tables of each severity line up with one another.
  function columns(widths) {
    const group = h('colgroup');
    for (const width of widths) group.append(h('col', `w-${width}`));
    return group;
  }

  // A block the browser may skip laying out while it is off screen; its height is estimated
  // (through the CSSOM, which a strict style-src allows) so the scroll bar stays honest.
  function offscreenBlock(className, estimatedHeight) {
    const block = h('div', `${className} lazy-block`);
    block.style.containIntrinsicSize = `auto ${Math.round(estimatedHeight)}px`;
    return block;
  }

  function renderAlertBoard() {
    const holder = $('open-alerts');
    if (!state.snapshotLoaded) {
      if (state.snapshotError) holder.replaceChildren(h('p', 'error', `Could not load alerts: ${state.snapshotError}. Retrying…`));
      return;
    }
    const bySeverity = new Map();
    let resolvedCount = 0;
    for (const alert of state.alerts.values()) {
      if (alert.resolved) {
        resolvedCount += 1;
        continue;
      }
      const key = severityClass(alert.severity);
      if (!bySeverity.has(key)) bySeverity.set(key, []);
      bySeverity.get(key).push(alert);
    }
    const counts = new Map(SEVERITIES.map((severity) => [severity, (bySeverity.get(severity) || []).length]));
    const openCount = state.alerts.size - resolvedCount;
    renderAlertCounts(counts, openCount, resolvedCount);

    // The first paint needs only the screenful at the top, the most severe; the rest of the
    // rows follow a frame later.
    let budget = state.renderedOnce ? Infinity : FIRST_PAINT_ALERT_ROWS;
    state.alertsTruncated = false;
    const fragment = document.createDocumentFragment();
    if (openCount === 0) fragment.append(h('p', 'all-clear', 'No open alerts.'));
    for (const key of [...SEVERITIES, 'unknown']) {
      let alerts = bySeverity.get(key);
      if (!alerts) continue;
      alerts.sort(compareOpenAlerts);
      const total = alerts.length;
      if (alerts.length > budget) {
        alerts = alerts.slice(0, budget);
        state.alertsTruncated = true;
      }
      budget -= alerts.length;
      const block = offscreenBlock(`alert-group group-${key}`, 80 + total * 34);
      block.id = `alerts-${key}`;
      const label = key === 'unknown' ? 'Other severity' : capitalised(key);
      const groupTable = table('', `${label} — ${total} open, newest first`, OPEN_COLUMNS, 'alerts open-alerts');
      groupTable.insertBefore(columns(OPEN_WIDTHS), groupTable.tHead);
      const body = h('tbody');
      for (const alert of alerts) body.append(alertRow(alert, false));
      groupTable.append(body);
      block.append(groupTable);
      fragment.append(block);
    }
    holder.replaceChildren(fragment);
    if (state.status) document.title = `${openCriticalTitle()}MineralSync — ${state.status.node}`;
  }

  function renderResolvedAlerts() {
    if (!state.snapshotLoaded) return;
    const resolved = [];
    for (const alert of state.alerts.values()) if (alert.resolved) resolved.push(alert);
    resolved.sort(compareResolvedAlerts);
    $('resolved-summary').textContent = `Resolved alerts (${resolved.length})`;
    const holder = $('resolved-alerts-holder');
    if (resolved.length === 0) {
      holder.replaceChildren(h('p', 'muted', 'None.'));
      return;
    }
    const resolvedTable = table('', `Resolved alerts (${resolved.length}), most recently resolved first`, RESOLVED_COLUMNS, 'alerts resolved-alerts');
    resolvedTable.insertBefore(columns(RESOLVED_WIDTHS), resolvedTable.tHead);
    const body = h('tbody');
    for (const alert of resolved) body.append(alertRow(alert, true));
    resolvedTable.append(body);
    holder.replaceChildren(resolvedTable);
  }

  function renderAlertCounts(counts, openCount, resolvedCount) {
    const line = $('alert-counts');
    const fragment = document.createDocumentFragment();
    fragment.append(`Open: ${openCount}. `);
    SEVERITIES.forEach((severity, index) => {
      const count = counts.get(severity) || 0;
      const label = `${count} ${severity}`;
      if (count) {
        const link = h('a', `sev sev-${severity}`, label);
        link.href = `#alerts-${severity}`;
        fragment.append(link);
      } else {
        fragment.append(h('span', 'sev-none', label));
      }
      if (index < SEVERITIES.length - 1) fragment.append(' · ');
    });
    fragment.append(`. Resolved: ${resolvedCount}.`);
    line.replaceChildren(fragment);
    const critical = counts.get('critical') || 0;
    const navCount = $('nav-alert-count');
    navCount.textContent = critical ? `${critical} critical` : openCount ? `${openCount} open` : '';
    navCount.classList.toggle('critical', critical > 0);
  }

  // ---------------------------------------------------------------- reserves table

  const reserveKey = (row) => `${row.participant}\u0000${row.mineral}\u0000${row.site}`;

  function compareReserves(a, b) {
    if (a.participant !== b.participant) return a.participant < b.participant ? -1 : 1;
    if (a.mineral !== b.mineral) return a.mineral < b.mineral ? -1 : 1;
    if (a.site !== b.site) return a.site < b.site ? -1 : 1;
    return 0;
  }

  function formatDays(text) {
    if (text === null || text === undefined || text === '') return DASH;
    const days = Number(text);
    if (!Number.isFinite(days)) return String(text);
    return `${formatNumber(days, days < 10 ? 1 : 0)} d`;
  }

  // "1200 t" → "1,200 t".
  function formatQuantityText(text) {
    if (!text) return DASH;
    const [amount, ...unit] = String(text).trim().split(/\s+/);
    return [groupDigits(amount), ...unit].join(' ');
  }

  function quantityText(row) {
    return row.quantity === null || row.quantity === undefined ? DASH : `${groupDigits(row.quantity)} ${shown(row.unit)}`;
  }

  const RESERVE_COLUMNS = ['Participant', 'Mineral', 'Site', 'Quantity', 'Form / basis', 'Target', 'Coverage', 'Days of cover', 'Annual use', 'As of (UTC)', 'Reported by'];
  const RESERVE_WIDTHS = ['participant', 'mineral', 'site', 'quantity', 'form', 'target', 'coverage', 'days', 'quantity', 'time', 'node'];
  const RESERVE_CELL_CLASSES = ['', 'mineral', '', 'num', '', 'num', 'num', 'num', 'num', 'nowrap', 'nowrap'];
  let reserveTemplate = null;

  // Thousands of rows: cloning one prepared row is much cheaper than building each cell anew.
  function reserveRowTemplate() {
    if (!reserveTemplate) {
      reserveTemplate = h('tr');
      for (const className of RESERVE_CELL_CLASSES) reserveTemplate.append(h('td', className));
    }
    return reserveTemplate;
  }

  function reserveRow(row) {
    const tr = reserveRowTemplate().cloneNode(true);
    const participant = tr.firstChild;
    const mineral = participant.nextSibling;
    const site = mineral.nextSibling;
    const quantity = site.nextSibling;
    const formBasis = quantity.nextSibling;
    const target = formBasis.nextSibling;
    const coverageTd = target.nextSibling;
    const days = coverageTd.nextSibling;
    const annual = days.nextSibling;
    const asOf = annual.nextSibling;
    const reportedBy = asOf.nextSibling;
    participant.textContent = shown(row.participant);
    mineral.textContent = shown(row.mineral);
    if (row.site) {
      site.textContent = row.site;
    } else {
      site.textContent = '(total)';
      site.className = 'muted';
    }
    if (row.note) site.append(h('span', 'note', row.note));
    if (row.withheld === true) {
      tr.className = 'withheld';
      quantity.textContent = row.withheldReason ? `withheld (${row.withheldReason})` : 'withheld';
      quantity.className = 'withheld-text';
    } else {
      quantity.textContent = quantityText(row);
    }
    const parts = [row.form, row.basis].filter((part) => part !== null && part !== undefined && part !== '');
    formBasis.textContent = parts.length ? parts.join(' / ') : DASH;
    target.textContent = formatQuantityText(row.target);
    const coverage = row.coverage === null || row.coverage === undefined ? NaN : Number(row.coverage);
    if (Number.isFinite(coverage)) {
      coverageTd.textContent = formatPercent(coverage);
      coverageTd.className = `num ${coverage < 0.5 ? 'cov-low' : coverage < 1 ? 'cov-short' : 'cov-ok'}`;
    } else {
      coverageTd.textContent = shown(row.coverage);
    }
    days.textContent = formatDays(row.daysOfCover);
    annual.textContent = row.annualConsumption ? `${groupDigits(row.annualConsumption)} ${shown(row.unit)}` : DASH;
    setTime(asOf, row.asOf);
    reportedBy.textContent = shown(row.reportedBy);
    return tr;
  }

  // The table as drawn: its rows by register key and in display order, so that a live reserve
  // event replaces or inserts one row instead of rebuilding thousands.
  const reserveView = { body: null, caption: null, filter: '', rowsByKey: new Map(), order: [] };
  const pendingReserveKeys = new Set();

  const matchesFilter = (row, filter) => !filter || `${row.participant} ${row.mineral} ${row.site}`.toLowerCase().includes(filter);

  function reserveCaptionText(shownCount) {
    const filter = state.reserveFilter;
    let withheld = 0;
    for (const row of state.reserves.values()) if (row.withheld === true) withheld += 1;
    const total = state.reserves.size;
    return filter
      ? `Reserve registers matching “${filter}”: ${shownCount} of ${total}`
      : `Reserve registers (${total}${withheld ? `, ${withheld} withheld` : ''}), by participant, mineral and site`;
  }

  function renderReserves() {
    const holder = $('reserves-holder');
    pendingReserveKeys.clear();
    if (!state.snapshotLoaded) {
      if (state.snapshotError) holder.replaceChildren(h('p', 'error', `Could not load reserves: ${state.snapshotError}. Retrying…`));
      return;
    }
    const filter = state.reserveFilter;
    const rows = [];
    for (const row of state.reserves.values()) if (matchesFilter(row, filter)) rows.push(row);
    rows.sort(compareReserves);
    const node = table('reserves', reserveCaptionText(rows.length), RESERVE_COLUMNS, 'reserves', [3, 5, 6, 7, 8]);
    node.insertBefore(columns(RESERVE_WIDTHS), node.tHead);
    const body = h('tbody');
    const rowsByKey = new Map();
    for (const row of rows) {
      const tr = reserveRow(row);
      rowsByKey.set(reserveKey(row), tr);
      body.append(tr);
    }
    node.append(body);
    Object.assign(reserveView, { body, caption: node.caption, filter, rowsByKey, order: rows });
    const block = offscreenBlock('reserves-block', 80 + rows.length * 30);
    block.append(node);
    const fragment = document.createDocumentFragment();
    if (state.reserves.size === 0) fragment.append(h('p', 'muted', 'No reserves reported yet.'));
    fragment.append(block);
    holder.replaceChildren(fragment);
    if (window.__dashboardCompleteAt === undefined) afterPaint(() => { window.__dashboardCompleteAt = performance.now(); });
  }

  function patchReserves() {
    if (pendingReserveKeys.size === 0) return;
    if (!reserveView.body || reserveView.filter !== state.reserveFilter || !reserveView.body.isConnected) {
      renderReserves();
      return;
    }
    const { body, rowsByKey, order, filter } = reserveView;
    for (const key of pendingReserveKeys) {
      const row = state.reserves.get(key);
      if (!row || !matchesFilter(row, filter)) continue;
      const fresh = reserveRow(row);
      const existing = rowsByKey.get(key);
      if (existing) {
        existing.replaceWith(fresh);
      } else {
        let low = 0;
        let high = order.length;
        while (low < high) {
          const middle = (low + high) >> 1;
          if (compareReserves(order[middle], row) < 0) low = middle + 1;
          else high = middle;
        }
        body.insertBefore(fresh, low < order.length ? rowsByKey.get(reserveKey(order[low])) : null);
        order.splice(low, 0, row);
      }
      rowsByKey.set(key, fresh);
    }
    pendingReserveKeys.clear();
    reserveView.caption.textContent = reserveCaptionText(order.length);
  }

  // ---------------------------------------------------------------- alliance totals chart

  // A participant's level of a mineral: its reported total (site empty) when it has one,
  // otherwise the sum of its sites — the same rule as the node's own views. Withheld figures
  // count for nothing; the participant is named as withholding instead.
  function allianceTotals() {
    const byParticipant = new Map(); // participant → mineral → its total row and site rows
    const entries = [];
    for (const row of state.reserves.values()) {
      let ofParticipant = byParticipant.get(row.participant);
      if (!ofParticipant) {
        ofParticipant = new Map();
        byParticipant.set(row.participant, ofParticipant);
      }
      let entry = ofParticipant.get(row.mineral);
      if (!entry) {
        entry = { participant: row.participant, mineral: row.mineral, total: null, sites: [] };
        ofParticipant.set(row.mineral, entry);
        entries.push(entry);
      }
      if (row.site === '' || row.site === null || row.site === undefined) entry.total = row;
      else entry.sites.push(row);
    }

    const minerals = new Map();
    const mineralEntry = (id) => {
      let entry = minerals.get(id);
      if (!entry) {
        entry = { mineral: id, parts: [], total: 0, target: null, withheld: new Set() };
        minerals.set(id, entry);
      }
      return entry;
    };
    const participants = new Set();
    for (const entry of entries) {
      const totals = mineralEntry(entry.mineral);
      let tonnes = 0;
      let counted = false;
      const rows = entry.total ? [entry.total] : entry.sites;
      // As the node counts it: a withheld total, or (without a total) any withheld site, leaves
      // the participant's level unknown, so none of it is counted.
      if (rows.some((row) => row.withheld === true)) {
        totals.withheld.add(entry.participant);
        continue;
      }
      for (const row of rows) {
        const value = toTonnes(row.quantity, row.unit);
        if (Number.isFinite(value)) {
          tonnes += value;
          counted = true;
        }
      }
      if (counted) {
        totals.parts.push({ participant: entry.participant, tonnes, text: `${entry.participant} ${formatTonnes(tonnes)}` });
        totals.total += tonnes;
        participants.add(entry.participant);
      }
    }
    for (const target of state.targets) {
      const tonnes = toTonnes(target.quantity, target.unit);
      if (!Number.isFinite(tonnes)) continue;
      const totals = mineralEntry(target.mineral);
      totals.target = (totals.target || 0) + tonnes;
    }
    const withheldParticipants = new Set();
    for (const totals of minerals.values()) for (const participant of totals.withheld) withheldParticipants.add(participant);

    // Most exposed first: lowest coverage of the summed targets, then minerals without a target.
    const rows = [...minerals.values()];
    const coverageOf = (totals) => (totals.target ? totals.total / totals.target : Infinity);
    rows.sort((a, b) => coverageOf(a) - coverageOf(b) || (a.mineral < b.mineral ? -1 : a.mineral > b.mineral ? 1 : 0));
    for (const totals of rows) {
      totals.parts.sort((a, b) => (a.participant < b.participant ? -1 : 1));
      totals.figures = figuresText(totals);
    }
    return { rows, participants: [...participants].sort(), withheldParticipants };
  }

  function figuresText(totals) {
    let text = formatTonnes(totals.total);
    if (totals.target) text += ` of ${formatTonnes(totals.target)} target (${formatPercent(totals.total / totals.target)})`;
    else text += ', no target';
    if (totals.withheld.size) text += `; ${totals.withheld.size} withheld`;
    return text;
  }

  const CHART = { width: 900, labelWidth: 170, barWidth: 430, rowHeight: 30, barHeight: 16, top: 6 };

  function renderTotalsChart() {
    const holder = $('totals-chart');
    if (!state.snapshotLoaded) {
      if (state.snapshotError) holder.replaceChildren(h('p', 'error', `Could not load reserves: ${state.snapshotError}. Retrying…`));
      return;
    }
    const { rows, participants, withheldParticipants } = allianceTotals();
    const colour = new Map(participants.map((participant, index) => [participant, `p${index % PALETTE_SIZE}`]));
    const fragment = document.createDocumentFragment();

    if (rows.length === 0) {
      holder.replaceChildren(h('p', 'muted', 'No reserves or targets reported yet.'));
      return;
    }

    const note = h('p', 'chart-note');
    note.textContent = withheldParticipants.size
      ? `${withheldParticipants.size} participant${withheldParticipants.size === 1 ? '' : 's'} withheld at least one figure (${[...withheldParticipants].sort().join(', ')}); withheld figures are not in the totals.`
      : 'No participant withheld a figure.';
    fragment.append(note);

    fragment.append(chartLegend(participants, colour));

    const height = CHART.top * 2 + rows.length * CHART.rowHeight;
    const chart = svg('svg', { viewBox: `0 0 ${CHART.width} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': 'totals-chart-title totals-chart-desc', focusable: 'false' });
    const title = svg('title', { id: 'totals-chart-title' });
    title.textContent = `Alliance totals per mineral, in tonnes: ${rows.map((totals) => `${totals.mineral} ${totals.figures}`).join('; ')}.`;
    const desc = svg('desc', { id: 'totals-chart-desc' });
    desc.textContent = 'Horizontal bars, one segment per participant, each bar scaled to its own mineral; the black mark is the sum of the participants’ targets.';
    chart.append(title, desc);

    rows.forEach((totals, index) => {
      const y = CHART.top + index * CHART.rowHeight;
      const middle = y + CHART.rowHeight / 2;
      const group = svg('g', { class: 'chart-row' });
      // One tooltip per row (every segment, the mark and the labels show it).
      const tooltip = svg('title');
      const fullName = state.minerals.get(totals.mineral);
      tooltip.textContent = `${totals.mineral}${fullName ? ` (${fullName})` : ''}: ${totals.parts.map((part) => part.text).join(', ') || 'nothing reported'}`
        + `${totals.target ? `; sum of targets ${formatTonnes(totals.target)}` : ''}${totals.withheld.size ? `; withheld by ${[...totals.withheld].sort().join(', ')}` : ''}`;
      group.append(tooltip);
      const label = svg('text', { x: CHART.labelWidth - 10, y: middle, class: 'chart-label', 'text-anchor': 'end', 'dominant-baseline': 'central' });
      label.textContent = totals.mineral;
      group.append(label);
      const barY = middle - CHART.barHeight / 2;
      group.append(svg('rect', { x: CHART.labelWidth, y: barY, width: CHART.barWidth, height: CHART.barHeight, class: 'track' }));

      const scaleMax = Math.max(totals.total, totals.target || 0);
      const scale = scaleMax > 0 ? CHART.barWidth / scaleMax : 0;
      // One segment per participant: a clone of the row's prototype, moved and coloured.
      const prototype = svg('rect', { y: barY, height: CHART.barHeight });
      let x = CHART.labelWidth;
      for (const part of totals.parts) {
        const width = part.tonnes * scale;
        if (width <= 0) continue;
        const bar = prototype.cloneNode(false);
        bar.setAttribute('x', x.toFixed(2));
        bar.setAttribute('width', Math.max(width, 0.5).toFixed(2));
        bar.setAttribute('class', `bar ${colour.get(part.participant)}`);
        group.append(bar);
        x += width;
      }
      if (totals.target) {
        const markX = (CHART.labelWidth + totals.target * scale).toFixed(2);
        group.append(svg('line', { x1: markX, x2: markX, y1: y + 3, y2: y + CHART.rowHeight - 3, class: 'target-mark' }));
      }
      const coverage = totals.target ? totals.total / totals.target : null;
      const figures = svg('text', {
        x: CHART.labelWidth + CHART.barWidth + 12, y: middle, 'dominant-baseline': 'central',
        class: `chart-figures${coverage !== null && coverage < 0.5 ? ' low' : ''}`,
      });
      figures.textContent = totals.figures;
      group.append(figures);
      chart.append(group);
    });
    // SVG text is costly to lay out the first time: skipped while the chart is off screen.
    const block = offscreenBlock('chart-block', height + 40);
    block.append(chart, chartDataTable(rows));
    fragment.append(block);
    holder.replaceChildren(fragment);
  }

  function chartLegend(participants, colour) {
    const legend = h('ul', 'legend');
    legend.setAttribute('aria-label', 'Legend');
    for (const participant of participants) {
      const item = h('li');
      const swatch = svg('svg', { width: 14, height: 14, viewBox: '0 0 14 14', 'aria-hidden': 'true', focusable: 'false' });
      swatch.append(svg('rect', { x: 0, y: 0, width: 14, height: 14, class: colour.get(participant) }));
      item.append(swatch, ` ${participant}`);
      legend.append(item);
    }
    const targetItem = h('li');
    const markSwatch = svg('svg', { width: 14, height: 14, viewBox: '0 0 14 14', 'aria-hidden': 'true', focusable: 'false' });
    markSwatch.append(svg('line', { x1: 7, x2: 7, y1: 0, y2: 14, class: 'target-mark' }));
    targetItem.append(markSwatch, ' sum of targets');
    legend.append(targetItem);
    return legend;
  }

  function chartDataTable(rows) {
    const details = h('details', 'chart-data');
    details.append(h('summary', '', 'Chart figures as a table'));
    const node = table('', 'Alliance totals per mineral (tonnes; withheld figures excluded)',
      ['Mineral', 'Alliance total', 'Sum of targets', 'Coverage', 'Participants counted', 'Withheld by'], '', [1, 2, 3]);
    const body = h('tbody');
    for (const totals of rows) {
      const tr = h('tr');
      const mineral = h('th', 'mineral', totals.mineral);
      mineral.scope = 'row';
      tr.append(mineral);
      cell(tr, formatTonnes(totals.total), 'num');
      cell(tr, totals.target ? formatTonnes(totals.target) : DASH, 'num');
      cell(tr, totals.target ? formatPercent(totals.total / totals.target) : DASH, 'num');
      cell(tr, totals.parts.map((part) => part.text).join(', ') || DASH);
      cell(tr, totals.withheld.size ? [...totals.withheld].sort().join(', ') : DASH);
      body.append(tr);
    }
    node.append(body);
    details.append(node);
    return details;
  }

  // ---------------------------------------------------------------- peers and security events

  const PEER_COLUMNS = ['Node', 'Participant', 'Address', 'State', 'Lag in', 'Lag out', 'Last contact (UTC)', 'Round trip', 'Offences', 'Penalised until (UTC)', 'Last error'];

  function renderPeers() {
    const holder = $('peers-holder');
    if (!state.status && state.statusError) {
      holder.replaceChildren(h('p', 'error', `Could not load peers: ${state.statusError}. Retrying…`));
      return;
    }
    const peers = Array.isArray(state.peers) ? [...state.peers] : [];
    // Trouble first: disconnected or penalised peers, then by node.
    const trouble = (peer) => (peer.state !== 'connected' || peer.penalizedUntil ? 0 : 1);
    peers.sort((a, b) => trouble(a) - trouble(b) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    const node = table('peers', `Peers (${peers.length}), problems first`, PEER_COLUMNS, 'peers', [4, 5, 7, 8]);
    const body = h('tbody');
    for (const peer of peers) {
      const tr = h('tr', trouble(peer) === 0 ? 'trouble' : '');
      cell(tr, peer.node, 'nowrap');
      cell(tr, peer.participant);
      cell(tr, peer.address, 'nowrap');
      const stateTd = cell(tr, peer.state, `nowrap ${peer.state === 'connected' ? 'state-ok' : 'state-bad'}`);
      stateTd.prepend(h('span', 'state-icon', peer.state === 'connected' ? '● ' : '✕ '));
      cell(tr, peer.lagIn, 'num');
      cell(tr, peer.lagOut, 'num');
      timeCell(tr, peer.lastContact, 'nowrap');
      cell(tr, peer.roundTripMillis === null || peer.roundTripMillis === undefined ? DASH : `${peer.roundTripMillis} ms`, 'num');
      cell(tr, peer.offences, peer.offences ? 'num bad' : 'num');
      timeCell(tr, peer.penalizedUntil, 'nowrap');
      const errorTd = cell(tr, peer.lastError || peer.lastOffence || peer.lastRejection, 'detail');
      if (!peer.lastError && (peer.lastOffence || peer.lastRejection)) errorTd.title = peer.lastOffence ? 'last offence' : 'last rejection';
      body.append(tr);
    }
    node.append(body);
    const fragment = document.createDocumentFragment();
    if (peers.length === 0) fragment.append(h('p', 'muted', state.status ? 'No peers configured.' : 'Loading…'));
    else fragment.append(node);
    holder.replaceChildren(fragment);
  }

  const DANGEROUS_KINDS = new Set(['fork', 'policy-violation', 'penalized']);

  function renderSecurityEvents() {
    const holder = $('security-holder');
    const events = state.status && Array.isArray(state.status.securityEvents) ? [...state.status.securityEvents] : [];
    events.sort((a, b) => ((a.at || '') < (b.at || '') ? 1 : (a.at || '') > (b.at || '') ? -1 : 0));
    const fragment = document.createDocumentFragment();
    if (!state.status) {
      fragment.append(h('p', 'muted', state.statusError ? `Could not load: ${state.statusError}.` : 'Loading…'));
    } else if (events.length === 0) {
      fragment.append(h('p', 'all-clear', 'No security events.'));
    } else {
      const node = table('security-events', `Security events (${events.length}), newest first`, ['At (UTC)', 'Kind', 'Subject', 'Detail'], 'security');
      const body = h('tbody');
      for (const event of events) {
        const tr = h('tr', DANGEROUS_KINDS.has(event.kind) ? 'trouble' : '');
        timeCell(tr, event.at, 'nowrap');
        cell(tr, event.kind, DANGEROUS_KINDS.has(event.kind) ? 'bad' : '');
        cell(tr, event.subject);
        cell(tr, event.detail, 'detail');
        body.append(tr);
      }
      node.append(body);
      fragment.append(node);
    }
    holder.replaceChildren(fragment);
  }

  // ---------------------------------------------------------------- screen-reader announcements

  function announce() {
    if (state.announcements.length === 0) return;
    const items = state.announcements.splice(0);
    const text = items.length === 1 ? items[0] : `${items.length} new alerts, the first: ${items[0]}`;
    $('announcer').textContent = text;
  }

  // ---------------------------------------------------------------- data loading

  async function getJSON(path) {
    return JSON.parse(await getText(path));
  }

  async function getText(path) {
    let response;
    try {
      // Plain GETs, so that the first ones take the responses index.html preloads (the server
      // says no-store: nothing is cached past that).
      response = await fetch(path);
    } catch (_) {
      throw new Error(`no answer from the dashboard server for ${path}`);
    }
    if (!response.ok) {
      let message = response.statusText;
      try {
        const body = await response.json();
        if (body && body.message) message = body.message;
      } catch (_) { /* not JSON: keep the status text */ }
      throw new Error(`${path} answered ${response.status} ${message}`);
    }
    return response.text();
  }

  function applyTargets(targets) {
    const list = Array.isArray(targets) ? targets : [];
    const json = JSON.stringify(list);
    if (json === state.targetsJSON) return false;
    state.targets = list;
    state.targetsJSON = json;
    return true;
  }

  // Events that arrive while a snapshot is being fetched are held and replayed after it, in
  // order, so a change committed between the snapshot and its arrival is never lost.
  let buffering = true;
  const bufferedEvents = [];

  function onWatchEvent(event) {
    if (buffering) bufferedEvents.push(event);
    else applyEvent(event, true);
  }

  function applyEvent(event, live) {
    if (!event || typeof event !== 'object') return;
    if (event.type === 'alert' && event.alert && event.alert.id) {
      const previous = state.alerts.get(event.alert.id);
      state.alerts.set(event.alert.id, event.alert);
      if (live && !previous && !event.alert.resolved) markFresh(event.alert);
      invalidate('alerts', 'header');
      if (event.alert.resolved || (previous && previous.resolved)) invalidate('resolved');
    } else if (event.type === 'reserve' && event.reserve) {
      const key = reserveKey(event.reserve);
      state.reserves.set(key, event.reserve);
      pendingReserveKeys.add(key);
      invalidate('reserveRows', 'chart');
    }
  }

  function markFresh(alert) {
    state.freshAlerts.set(alert.id, Date.now());
    state.announcements.push(`New ${alert.severity} alert on ${alert.mineral}: ${alert.summary}`);
    setTimeout(() => {
      state.freshAlerts.delete(alert.id);
      invalidate('alerts');
    }, NEW_BADGE_MS);
  }

  // The texts of the last snapshot: a snapshot that finds them unchanged costs no parsing and
  // no re-render (the stream's opening always asks for one).
  const snapshotTexts = { alerts: null, reserves: null, targets: null };

  async function loadSnapshot() {
    buffering = true;
    try {
      const [alertsText, reservesText, targetsText, mineralsText] = await Promise.all([
        getText('/api/alerts'), getText('/api/reserves'), getText('/api/targets'),
        // The catalogue's names only label tooltips: fetched once, and not worth failing for.
        state.minerals.size ? null : getText('/api/minerals').catch(() => null),
      ]);
      if (mineralsText) {
        const minerals = JSON.parse(mineralsText);
        state.minerals = new Map((Array.isArray(minerals) ? minerals : []).map((mineral) => [mineral.id, mineral.name]));
        invalidate('chart');
      }
      if (alertsText !== snapshotTexts.alerts) {
        const alerts = JSON.parse(alertsText);
        const previous = state.alerts;
        state.alerts = new Map((Array.isArray(alerts) ? alerts : []).map((alert) => [alert.id, alert]));
        // Alerts raised while the stream was down are as new to the reader as live ones.
        if (state.snapshotLoaded) {
          for (const alert of state.alerts.values()) if (!alert.resolved && !previous.has(alert.id)) markFresh(alert);
        }
        snapshotTexts.alerts = alertsText;
        invalidate('alerts', 'resolved', 'header');
      }
      if (reservesText !== snapshotTexts.reserves) {
        const reserves = JSON.parse(reservesText);
        state.reserves = new Map((Array.isArray(reserves) ? reserves : []).map((row) => [reserveKey(row), row]));
        snapshotTexts.reserves = reservesText;
        invalidate('reserves', 'chart');
      }
      if (targetsText !== snapshotTexts.targets) {
        applyTargets(JSON.parse(targetsText));
        snapshotTexts.targets = targetsText;
        invalidate('chart');
      }
      if (!state.snapshotLoaded || state.snapshotError) invalidate('alerts', 'resolved', 'reserves', 'chart', 'header');
      state.snapshotLoaded = true;
      state.snapshotError = null;
      return true;
    } catch (error) {
      state.snapshotError = error.message;
      invalidate('alerts', 'reserves', 'chart');
      return false;
    } finally {
      buffering = false;
      for (const event of bufferedEvents.splice(0)) applyEvent(event, state.snapshotLoaded);
    }
  }

  // One snapshot at a time: a request made while one is in flight runs once more after it.
  let resyncRunning = false;
  let resyncAgain = false;

  async function resync() {
    if (resyncRunning) {
      resyncAgain = true;
      return;
    }
    resyncRunning = true;
    try {
      do {
        // A check after the stream opens need not slow the first paint.
        if (state.snapshotLoaded && !state.renderedOnce) await firstPainted;
        resyncAgain = false;
        if (!(await loadSnapshot())) {
          await delay(REFRESH_MS);
          resyncAgain = true;
        } else if (!state.markScheduled) {
          // The first render is not left to the next frame: it is what the duty officer waits for.
          flush();
        }
      } while (resyncAgain);
    } finally {
      resyncRunning = false;
    }
  }

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function refreshStatus() {
    try {
      // Targets change without an event: polled too, once the snapshot has brought the first.
      const withTargets = state.snapshotLoaded;
      const [status, peers, targets] = await Promise.all([getJSON('/api/status'), getJSON('/api/peers'), withTargets ? getJSON('/api/targets') : null]);
      state.status = status;
      state.peers = Array.isArray(peers) ? peers : [];
      state.statusAt = new Date();
      state.statusError = null;
      if (withTargets && state.snapshotLoaded && applyTargets(targets)) invalidate('chart');
    } catch (error) {
      state.statusError = error.message;
    }
    invalidate('header', 'peers', 'security');
    setTimeout(refreshStatus, REFRESH_MS);
  }

  // ---------------------------------------------------------------- live stream

  let snapshotRequested = false;
  let everConnected = false;
  let reconnectDelay = 1000;

  // The server may say when its own subscription to the node's watch is live (`event: open`)
  // and when the node's stream is lost (`event: unavailable`); without such an `open`, the
  // connection's opening stands in for it after a moment.
  const UPSTREAM_OPEN_WAIT_MS = 1000;

  function connectEvents() {
    setLive(everConnected ? 'reconnecting' : 'connecting');
    const source = new EventSource('/api/events');
    let resyncTimer = 0;
    // A change committed before the stream (re)opened is only in a fresh snapshot.
    const resyncNow = () => {
      clearTimeout(resyncTimer);
      if (snapshotRequested) resync();
    };
    source.onopen = () => {
      everConnected = true;
      reconnectDelay = 1000;
      setLive('connected');
      resyncTimer = setTimeout(resyncNow, UPSTREAM_OPEN_WAIT_MS);
    };
    source.addEventListener('open', (event) => {
      if (!(event instanceof MessageEvent)) return; // the connection's own open, handled above
      setStreamProblem(null);
      setLive('connected');
      resyncNow();
    });
    source.addEventListener('unavailable', (event) => {
      setStreamProblem(String(event.data || 'the node’s change stream is unavailable'));
    });
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      onWatchEvent(event);
    };
    source.onerror = () => {
      clearTimeout(resyncTimer);
      setLive('reconnecting');
      // The browser retries by itself unless the answer was unusable (an HTTP error or the wrong
      // content type): then start over, backing off.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connectEvents, reconnectDelay);
        reconnectDelay = Math.min(reconnectDelay * 2, 30000);
      }
    };
  }

  // ---------------------------------------------------------------- controls

  function wireControls() {
    let filterTimer = 0;
    $('reserve-filter').addEventListener('input', (event) => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => {
        state.reserveFilter = event.target.value.trim().toLowerCase();
        invalidate('reserves');
      }, 150);
    });
    // Printing shows what is folded away on screen, then folds it back.
    let reopened = [];
    window.addEventListener('beforeprint', () => {
      reopened = [...document.querySelectorAll('details:not([open])')];
      for (const details of reopened) details.open = true;
    });
    window.addEventListener('afterprint', () => {
      for (const details of reopened) details.open = false;
      reopened = [];
    });
  }

  function start() {
    wireControls();
    // The stream and the snapshot start together; when the stream opens, a second snapshot
    // closes any gap between the two (and costs next to nothing when nothing changed).
    snapshotRequested = true;
    connectEvents();
    resync();
    refreshStatus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
