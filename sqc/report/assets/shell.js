// Filters apply on change; the frame hides the "loading" line once the dashboard document has loaded.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("filters");
  form.querySelectorAll("select").forEach((s) => s.addEventListener("change", () => form.submit()));
  const frame = document.getElementById("dashboard");
  const done = () => { document.getElementById("loading").hidden = true; document.body.dataset.ready = "1"; };
  frame.addEventListener("load", done);
});
