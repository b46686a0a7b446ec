// Test-only helpers of the knowledge-base tests: temporary folders, files, a fixture folder
// of mixed files, and a hand-written PDF.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sov::kb::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/sov_kb_test_XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : "/tmp/sov_kb_test_failed";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A PDF of the given objects (numbered from 1, object 1 the catalog) with a correct
// cross-reference table, written by hand.
inline std::string make_pdf_of(const std::vector<std::string>& objs) {
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

inline std::string pdf_stream(const std::string& dict, const std::string& content) {
  return "<< " + dict + " /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
         "endstream";
}

// A one-page PDF showing `text` (ASCII without parentheses or backslashes).
inline std::string make_pdf(const std::string& text) {
  return make_pdf_of({
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      pdf_stream("", "BT /F1 18 Tf 72 700 Td (" + text + ") Tj ET\n"),
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  });
}

// A "billion laughs" PDF of a few kilobytes: form X0 shows a line of text, each form Xk
// draws X(k-1) `fanout` times one below the other, the page draws X(depth): 80 *
// fanout^depth characters on fanout^depth lines (those below the page are drawn, then
// dropped by the reader).
inline std::string make_pdf_bomb(int depth, int fanout) {
  std::vector<std::string> objs = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> /XObject << /X 6 0 R >> >> >>",
      pdf_stream("", "/X Do\n"),
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  };
  // Object 6 is X(depth), object 6 + depth is X0.
  long step = 12;  // points between the lines drawn by X1
  for (int k = 1; k < depth; ++k) step *= fanout;
  for (int k = depth; k >= 0; --k, step /= fanout) {
    const int self = static_cast<int>(objs.size()) + 1;
    std::string dict =
        "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >>";
    std::string content;
    if (k == 0) {
      content = "BT /F1 10 Tf 20 780 Td (" + std::string(80, 'A') + ") Tj ET\n";
    } else {
      dict += " /XObject << /Y " + std::to_string(self + 1) + " 0 R >>";
      for (int i = 0; i < fanout; ++i)
        content += "q 1 0 0 1 0 -" + std::to_string(i * step) + " cm /Y Do Q\n";
    }
    objs.push_back(pdf_stream(dict + " >>", content));
  }
  return make_pdf_of(objs);
}

// A folder of mixed files: Markdown, reStructuredText, code, HTML, JSON, CSV, plain text,
// a PDF, a binary, an ignored folder and file.
inline void make_fixture(const std::string& root) {
  write_file(root + "/notes/garden.md",
             "# Garden\n\nNotes about the vegetable garden.\n\n## Tomatoes\n\nTomatoes need six hours of sun "
             "and deep watering twice a week.\n\n## Compost\n\nTurn the compost heap every fortnight so it "
             "stays aerobic.\n");
  write_file(root + "/notes/travel.rst",
             "Travel\n======\n\nPacking list\n------------\n\nPassport, charger, umbrella and a paper map of "
             "Lisbon.\n");
  write_file(
      root + "/src/fib.py",
      "import sys\n\n\ndef fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
      "    return a\n\n\ndef main():\n    print(fibonacci(int(sys.argv[1])))\n");
  write_file(root + "/web/page.html",
             "<!DOCTYPE html><html><head><title>Recipes</title><style>body{color:red}</style>"
             "<script>var secret = 'javascriptonly';</script></head><body><h1>Pancakes</h1>"
             "<p>Whisk flour, milk &amp; eggs; rest the batter for thirty minutes.</p></body></html>");
  write_file(root + "/data/config.json", "{\"database\": {\"host\": \"localhost\", \"port\": 5432}}\n");
  write_file(root + "/data/birds.csv", "species,count\nkingfisher,3\nheron,7\n");
  write_file(root + "/readme.txt", "The quarterly budget review is scheduled for Thursday.\n");
  write_file(root + "/docs/manual.pdf", make_pdf("Calibrate the telescope mirror before observing."));
  write_file(root + "/image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  write_file(root + "/build/output.txt", "build artefact zeppelin\n");
  write_file(root + "/secret.log", "zeppelin log line\n");
  write_file(root + "/.gitignore", "build/\n*.log\n");
}

}  // namespace sov::kb::test
