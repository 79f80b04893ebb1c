// Counter page: scan a license's QR code or a joint application's bundle (联办码) with the camera
// (jsQR) or upload a photo, verify it with the service, and show the result large and plain.
// Chinese by default.
(function () {
  "use strict";
  const T = {
    zh: {
      title: "电子证照核验", scan: "扫描二维码", stop: "停止扫描", upload: "上传照片", again: "核验下一张",
      hint: "将证照上的二维码对准摄像头，或上传二维码照片。", fields: "证照信息", lang: "English",
      license: "证照编号", type: "证照类型", issuer: "发证机关", region: "所属地区", anchored: "上链时间",
      validity: "有效期", hidden: "未披露字段", freshness: "链上数据：区块 {block}，{age} 秒前", checking: "正在核验…",
      noCamera: "无法打开摄像头，请上传二维码照片。", error: "核验失败", open: "长期",
      staleValid: "有效，但链上数据未及时更新，请稍后复核", staleNote: "注意：链上数据已有 {age} 未更新，证照状态可能已变化。",
      seconds: "{n} 秒", minutes: "{n} 分钟", hours: "{n} 小时", days: "{n} 天", preparing: "正在处理照片…",
      application: "联办件编号", applicant: "申请人", applicantCode: "统一社会信用代码", jointAnchored: "联合存证时间",
      departments: "会签部门", members: "联办证照", cosigned: "已会签", notCosigned: "未会签",
      staleBundle: "联办证照有效，但链上数据未及时更新，请稍后复核",
      suite: "签名算法", certificate: "签名证书", sm2: "国密 SM2（SM3）", secp256k1: "secp256k1（EIP-712）",
    },
    en: {
      title: "E-license check", scan: "Scan QR code", stop: "Stop scanning", upload: "Upload photo", again: "Check another",
      hint: "Hold the QR code on the license in front of the camera, or upload a photo of it.", fields: "License details", lang: "中文",
      license: "License id", type: "Type", issuer: "Issuer", region: "Region", anchored: "Anchored",
      validity: "Valid", hidden: "Undisclosed fields", freshness: "Chain data: block {block}, {age} s old", checking: "Checking…",
      noCamera: "The camera cannot be opened; upload a photo of the QR code.", error: "Check failed", open: "open-ended",
      staleValid: "Valid, but the chain data is out of date: check again later", staleNote: "Caution: the chain data has not been updated for {age}; the license's status may have changed.",
      seconds: "{n} s", minutes: "{n} min", hours: "{n} h", days: "{n} days", preparing: "Preparing the photo…",
      application: "Application", applicant: "Applicant", applicantCode: "Credit code", jointAnchored: "Jointly anchored",
      departments: "Departments", members: "Licenses", cosigned: "co-signed", notCosigned: "not co-signed",
      staleBundle: "All valid, but the chain data is out of date: check again later",
      suite: "Signature", certificate: "Certificate", sm2: "SM2 with SM3 (国密)", secp256k1: "secp256k1 (EIP-712)",
    },
  };
  // A member license's status in words (as a license's own check headlines it).
  const STATUS = {
    valid: ["有效", "Valid"], tampered: ["内容被篡改", "Tampered"], malformed: ["无法识别", "Unreadable"],
    unknown_issuer: ["发证机关未登记", "Unknown issuer"], key_not_valid: ["签发密钥无效", "Signing key not valid"],
    type_not_permitted: ["发证机关无权签发此类证照", "Issuer not permitted"], not_anchored: ["尚未上链", "Not anchored"],
    revoked: ["已吊销", "Revoked"], suspended: ["已暂停", "Suspended"], superseded: ["已被新版本替代", "Superseded"],
    expired: ["已过期", "Expired"], not_yet_valid: ["尚未生效", "Not yet valid"],
    co_approval_missing: ["缺少联合审批", "Co-approval missing"],
  };
  let lang = "zh";
  let last = null;
  let stream = null;
  let scanning = false;
  const $ = (id) => document.getElementById(id);
  const t = (key) => T[lang][key];

  function applyLanguage() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("lang").textContent = t("lang");
    if (scanning) $("start").textContent = t("stop");
    if (last) render(last);
  }

  function row(list, label, value) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = value;
    list.append(dt, dd);
    return dd;
  }

  // Largest side of a photo sent to the service: a QR code needs far fewer pixels than a camera
  // takes, and the service refuses images beyond 2048 x 2048 pixels (JPEG photos are scaled).
  const MAX_SIDE = 2048;

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 120) return t("seconds").replace("{n}", s);
    if (s < 7200) return t("minutes").replace("{n}", Math.round(s / 60));
    if (s < 172800) return t("hours").replace("{n}", Math.round(s / 3600));
    return t("days").replace("{n}", Math.round(s / 86400));
  }

  function render(data) {
    last = data;
    $("result").hidden = false;
    const verdict = $("verdict");
    // A stale chain mirror may not know of a revocation yet: never green, amber with plain words.
    const stale = data.stale === true || (data.reasons || []).some((r) => r.code === "stale_mirror");
    const bundle = data.kind === "bundle";
    // a bundle is green only when all is valid, red otherwise; a license not yet anchored is amber
    const waiting = !bundle && data.status === "not_anchored";
    const kind = data.status === "valid" ? (stale ? "stale" : "ok") : waiting ? "wait" : "bad";
    verdict.className = "verdict " + kind;
    verdict.dataset.status = data.status;
    verdict.dataset.kind = bundle ? "bundle" : "license";
    verdict.dataset.stale = stale ? "true" : "false";
    const staleHeadline = bundle ? t("staleBundle") : t("staleValid");
    $("headline").textContent = kind === "stale" ? staleHeadline : data.headline ? data.headline[lang] : t("error");
    const reasons = $("reasons"); reasons.replaceChildren();
    (data.reasons || []).forEach((r) => { const li = document.createElement("li"); li.textContent = r[lang]; reasons.append(li); });
    const details = $("details"); details.replaceChildren();
    if (data.license_id) row(details, t("license"), data.license_id);
    if (data.license_type) row(details, t("type"), data.license_type[lang] || data.license_type.code);
    if (data.issuer && data.issuer.name) row(details, t("issuer"), data.issuer.name);
    if (data.issuer && data.issuer.region_name) row(details, t("region"), data.issuer.region_name);
    if (data.suite === "sm2" || data.suite === "secp256k1") row(details, t("suite"), t(data.suite)).dataset.suite = data.suite;
    // any department may register any certificate: the service sends its subject with control, format
    // and line-breaking characters escaped (RFC 4514 hex pairs), and it is set as text, never as markup
    if (data.certificate_subject) row(details, t("certificate"), data.certificate_subject);
    if (data.anchor) row(details, t("anchored"), data.anchor.time_iso.replace("T", " ").slice(0, 19));
    if (data.valid_from) row(details, t("validity"), data.valid_from + " — " + (data.valid_to || t("open")));
    if (bundle) bundleDetails(details, data);
    details.hidden = details.children.length === 0;
    const fields = $("fields"); fields.replaceChildren();
    (data.disclosed || []).forEach((f) => row(fields, f.label[lang], f.display[lang]));
    if (data.hidden_fields) row(fields, t("hidden"), String(data.hidden_fields));
    fields.hidden = fields.children.length === 0;
    fields.previousElementSibling.hidden = fields.hidden;
    renderBundle(data);
    $("freshness").textContent = data.chain
      ? t("freshness").replace("{block}", data.chain.block_number).replace("{age}", Math.round(data.chain.age_seconds))
      : "";
    const note = $("stale-note");
    note.hidden = !stale;
    note.textContent = stale && data.chain ? t("staleNote").replace("{age}", duration(data.chain.age_seconds)) : "";
    $("result").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function bundleDetails(details, data) {
    if (data.application_id) row(details, t("application"), data.application_id);
    if (data.applicant) {
      row(details, t("applicant"), data.applicant.name);
      row(details, t("applicantCode"), data.applicant.uscc);
    }
    if (data.joint_anchor) row(details, t("jointAnchored"), data.joint_anchor.time_iso.replace("T", " ").slice(0, 19));
  }

  function item(className, parts) {
    const li = document.createElement("li"); li.className = className;
    parts.forEach(([cls, text]) => { const span = document.createElement("span"); span.className = cls; span.textContent = text; li.append(span); });
    return li;
  }

  function renderBundle(data) {
    const section = $("bundle");
    const departments = $("departments"); departments.replaceChildren();
    const members = $("members"); members.replaceChildren();
    section.hidden = data.kind !== "bundle" || (!(data.departments || []).length && !(data.members || []).length);
    if (data.kind !== "bundle") return;
    (data.departments || []).forEach((d) => {
      const li = item("department " + (d.approved ? "approved" : "missing"), [
        ["mark", d.approved ? "✓" : "✗"], ["name", d.name || d.uscc], ["state", d.approved ? t("cosigned") : t("notCosigned")],
      ]);
      li.dataset.uscc = d.uscc; li.dataset.approved = d.approved ? "true" : "false";
      departments.append(li);
    });
    (data.members || []).forEach((m) => {
      const words = STATUS[m.status] || [m.status, m.status];
      const colour = m.status === "valid" ? "ok" : m.status === "not_anchored" ? "wait" : "bad";
      const li = item("member " + colour, [
        ["type", m.license_type[lang] || m.license_type.code], ["status", words[lang === "zh" ? 0 : 1]],
        ["license-id", m.license_id], ["issuer", (m.issuer && m.issuer.name) || m.issuer.uscc],
      ]);
      if (m.status !== "valid" && m.reason) { const p = document.createElement("span"); p.className = "reason"; p.textContent = m.reason[lang]; li.append(p); }
      li.dataset.status = m.status; li.dataset.licenseId = m.license_id;
      members.append(li);
    });
  }

  async function post(url, options) {
    $("headline").textContent = t("checking");
    try {
      const response = await fetch(url, options);
      const data = await response.json();
      if (!response.ok && !data.status) {
        render({ status: "error", headline: { zh: t("error"), en: t("error") }, reasons: [{ zh: data.detail, en: data.detail }] });
        return;
      }
      render(data);
    } catch (err) {
      render({ status: "error", headline: { zh: T.zh.error, en: T.en.error }, reasons: [{ zh: String(err), en: String(err) }] });
    }
  }

  function verifyText(text) {
    post("/v1/verify", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ qr: text }) });
  }

  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("start").textContent = t("scan");
  }

  function tick() {
    if (!scanning) return;
    const video = $("video");
    if (video.readyState >= video.HAVE_ENOUGH_DATA) {
      const canvas = $("canvas");
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        stopCamera();
        verifyText(code.data);
        return;
      }
    }
    requestAnimationFrame(tick);
  }

  async function startCamera() {
    if (scanning) { stopCamera(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (err) {
      $("hint").textContent = t("noCamera");
      return;
    }
    const video = $("video");
    video.srcObject = stream;
    await video.play();
    scanning = true;
    $("start").textContent = t("stop");
    requestAnimationFrame(tick);
  }

  $("start").addEventListener("click", startCamera);
  // A phone photo (12 to 50 megapixels) is scaled in the browser to at most MAX_SIDE pixels a
  // side before upload; an image the browser cannot decode is sent as it is.
  async function prepare(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (err) {
      return file;
    }
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= 4 * 1024 * 1024) { bitmap.close(); return file; }
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    return blob || file;
  }

  $("file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    event.target.value = "";
    $("headline").textContent = t("preparing");
    const image = await prepare(file);
    const form = new FormData();
    form.append("image", image, image === file ? file.name : "photo.jpg");
    post("/v1/verify/image", { method: "POST", body: form });
  });
  $("again").addEventListener("click", () => { $("result").hidden = true; last = null; startCamera(); });
  $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; applyLanguage(); });
  applyLanguage();
})();
