# Render the R package's Rd pages to HTML for the documentation site, and list them.
#   Rscript tools/docs/gen_r_reference.R r-package/man OUT_DIR
# Writes OUT_DIR/<name>.html for every Rd file and OUT_DIR/index.tsv (file, name, title).
args <- commandArgs(trailingOnly = TRUE)
man <- args[1]; out <- args[2]
dir.create(out, recursive = TRUE, showWarnings = FALSE)
files <- sort(list.files(man, pattern = "\\.Rd$", full.names = TRUE))
rows <- character()
for (f in files) {
  rd <- tools::parse_Rd(f)
  tag <- function(t) {
    x <- Filter(function(e) identical(attr(e, "Rd_tag"), t), rd)
    if (length(x)) trimws(gsub("\\s+", " ", paste(unlist(x[[1L]]), collapse = ""))) else ""
  }
  base <- sub("\\.Rd$", "", basename(f))
  # package = "mx" only labels the page (it warns that mx is not installed, which does not matter here)
  suppressWarnings(tools::Rd2HTML(rd, file.path(out, paste0(base, ".html")), package = "mx", no_links = TRUE))
  rows <- c(rows, paste(paste0(base, ".html"), tag("\\name"), gsub("\t", " ", tag("\\title")), sep = "\t"))
}
writeLines(rows, file.path(out, "index.tsv"))
cat("gen_r_reference:", length(files), "Rd pages ->", out, "\n")
