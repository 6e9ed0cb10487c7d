// Organization pickers: a search box whose results fill a hidden input.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-pick-id]");
  if (!button) return;
  event.preventDefault();
  var field = document.getElementById(button.dataset.pickField);
  var label = document.getElementById(button.dataset.pickField + "_label");
  if (field) field.value = button.dataset.pickId;
  if (label) label.textContent = button.dataset.pickName;
  var results = button.closest(".picker-results");
  if (results) results.innerHTML = "";
});
