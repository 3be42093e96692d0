# A small JSON writer for the configuration strings the core takes (shapes, hyperparameters,
# initializer descriptions). Named lists become objects, unnamed lists and vectors of length != 1
# arrays (use I() to force an array), NULL null.

.mx_to_json <- function(x) {
  if (is.null(x)) return("null")
  if (inherits(x, "mx_json")) return(unclass(x))
  if (is.list(x)) {
    nm <- names(x)
    items <- vapply(x, .mx_to_json, "")
    if (!is.null(nm) && length(x))
      return(paste0("{", paste0(.mx_json_str(nm), ": ", items, collapse = ", "), "}"))
    if (!is.null(nm)) return("{}")
    return(paste0("[", paste(items, collapse = ", "), "]"))
  }
  one <- function(v) {
    if (is.character(v)) return(.mx_json_str(v))
    if (is.logical(v)) return(if (is.na(v)) "null" else if (v) "true" else "false")
    if (is.na(v)) return("null")
    if (is.infinite(v)) return(if (v > 0) "1e999" else "-1e999")
    if (v == trunc(v) && abs(v) < 1e15) return(sprintf("%.0f", v))
    sprintf("%.17g", v)
  }
  items <- vapply(as.list(x), one, "")
  if (length(x) == 1L && !inherits(x, "AsIs")) return(items)
  paste0("[", paste(items, collapse = ", "), "]")
}

.mx_json_str <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  s <- gsub("\t", "\\t", s, fixed = TRUE)
  paste0("\"", s, "\"")
}

# R-style argument names (learning.rate) -> MXNet's (learning_rate).
.mx_py_names <- function(args) {
  if (length(args)) names(args) <- gsub(".", "_", names(args), fixed = TRUE)
  args
}
