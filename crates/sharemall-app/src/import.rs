//! CSV import of products for a supplier (SPEC 3.1: suppliers keep spreadsheets).
//!
//! One row per SKU; rows sharing a `product_code` form one product. Headers may be English
//! (`product_code,title,category,description,attributes,supply_price,retail_price,commission_bps,stock,returnable`)
//! or Chinese (`商品编码,商品名称,类目,描述,规格,供货价,零售价,佣金基点,库存,七天无理由`), in any order;
//! unknown columns (备注…) are ignored. Prices are yuan (`12.50`, `¥12.50`), commission is basis
//! points (`1500`) or a percentage (`15%`).
//!
//! A product is imported only if all its rows are valid; every bad row is reported with the line a
//! person sees in a spreadsheet (header = line 1) and the column, as the file names it.
//! Line numbers count rows as a spreadsheet shows them: a blank line is a row, a cell with an
//! embedded line break is still one row.

use std::collections::HashMap;
use std::io::Read;

use sharemall_domain::catalog::{MAX_SKUS_PER_PRODUCT, NewSku, check_text, check_title};
use sharemall_domain::{Error, ErrorCode, Money};
use sharemall_store::ops::catalog::NewProduct;

/// At most this many data rows (SKUs) per file.
pub const MAX_ROWS: u64 = 10_000;
/// At most this many bytes per file.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Longest description a product may carry.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest category name.
pub const MAX_CATEGORY_CHARS: usize = 30;
/// Longest product code.
pub const MAX_CODE_CHARS: usize = 64;

/// The result of an import: the valid products, in the order their codes first appear, and
/// every problem found.
pub struct ImportReport {
    pub products: Vec<NewProduct>,
    pub errors: Vec<RowError>,
}

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row as a spreadsheet numbers it (header = 1); 0 for the file as a whole (too large,
    /// unreadable).
    pub line: u64,
    /// The column header as written in the file, when the problem is in one cell.
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    ProductCode,
    Title,
    Category,
    Description,
    Attributes,
    SupplyPrice,
    RetailPrice,
    CommissionBps,
    Stock,
    Returnable,
}

impl Field {
    const ALL: [Field; 10] = [
        Field::ProductCode,
        Field::Title,
        Field::Category,
        Field::Description,
        Field::Attributes,
        Field::SupplyPrice,
        Field::RetailPrice,
        Field::CommissionBps,
        Field::Stock,
        Field::Returnable,
    ];

    /// Header names accepted for this field, after [`normalize_header`].
    const fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::ProductCode => &["product_code", "productcode", "code", "商品编码", "商品编号", "商品代码", "货号", "款号", "编码"],
            Field::Title => &["title", "product_title", "name", "商品名称", "商品标题", "标题", "名称", "品名"],
            Field::Category => &["category", "类目", "分类", "商品分类", "商品类目", "品类"],
            Field::Description => &["description", "描述", "商品描述", "商品详情", "详情", "简介", "商品简介"],
            Field::Attributes => &["attributes", "sku", "sku_attributes", "规格", "sku规格", "规格属性", "属性", "销售属性"],
            Field::SupplyPrice => &["supply_price", "供货价", "供货价(元)", "供应价", "供应价(元)", "采购价", "成本价"],
            Field::RetailPrice => &["retail_price", "零售价", "零售价(元)", "建议零售价", "建议零售价(元)", "售价", "售价(元)"],
            Field::CommissionBps => {
                &["commission_bps", "commission", "佣金", "佣金(基点)", "佣金基点", "佣金比例", "佣金比例(基点)", "佣金率"]
            }
            Field::Stock => &["stock", "库存", "库存数量", "库存(件)", "数量"],
            Field::Returnable => &[
                "returnable",
                "七天无理由",
                "7天无理由",
                "七天无理由退货",
                "7天无理由退货",
                "支持7天无理由退货",
                "支持七天无理由退货",
                "可退货",
            ],
        }
    }

    /// Columns without which no row can make sense.
    const fn required(self) -> bool {
        !matches!(self, Field::Description | Field::Attributes | Field::Returnable)
    }
}

/// Lower-cases ASCII, drops whitespace and turns full-width brackets into ASCII ones, so that
/// `Supply Price`, `supply_price` and `供货价（元）` all match.
fn normalize_header(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect::<String>()
        .replace("supplyprice", "supply_price")
        .replace("retailprice", "retail_price")
        .replace("commissionbps", "commission_bps")
}

/// The column layout found in the header row.
struct Columns {
    index: HashMap<Field, usize>,
    /// Header text as written, per column index.
    names: Vec<String>,
}

impl Columns {
    fn parse(header: &[String]) -> Result<Columns, Vec<RowError>> {
        let mut index = HashMap::new();
        let mut errors = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let normalized = normalize_header(name);
            let Some(field) = Field::ALL.into_iter().find(|f| f.aliases().contains(&normalized.as_str())) else {
                continue;
            };
            if let Some(previous) = index.insert(field, i) {
                errors.push(RowError {
                    line: 1,
                    column: Some(name.clone()),
                    message: format!("column '{name}' duplicates column '{}'", header.get(previous).map(String::as_str).unwrap_or("")),
                });
            }
        }
        for field in Field::ALL {
            if field.required() && !index.contains_key(&field) {
                // The canonical name only: the page shows this message in either language, and
                // its translated hint lists the headers (Chinese ones on the Chinese page).
                let name = field.aliases().first().copied().unwrap_or_default();
                errors.push(RowError { line: 1, column: None, message: format!("missing column '{name}'") });
            }
        }
        if errors.is_empty() { Ok(Columns { index, names: header.to_vec() }) } else { Err(errors) }
    }

    fn get<'a>(&self, row: &'a [String], field: Field) -> &'a str {
        self.index.get(&field).and_then(|i| row.get(*i)).map(|s| s.trim()).unwrap_or("")
    }

    fn name(&self, field: Field) -> Option<String> {
        self.index.get(&field).and_then(|i| self.names.get(*i)).map(|s| s.trim().to_string())
    }
}

/// Numbers records the way a spreadsheet numbers rows: every physical line is a row (blank
/// lines included, which the csv reader skips), except that a line break inside a quoted cell
/// stays within its row.
#[derive(Default)]
struct SpreadsheetLines {
    /// Bytes of the input already counted.
    cursor: usize,
    /// Line breaks before `cursor`.
    breaks: u64,
    /// Line breaks inside quoted cells before `cursor`.
    embedded: u64,
    /// The row of the last record.
    row: u64,
}

impl SpreadsheetLines {
    /// Takes the record just read, which ends (terminator included) at byte `end`, and returns
    /// its row number.
    fn advance(&mut self, body: &[u8], end: u64, record: &csv::ByteRecord) -> u64 {
        let end = usize::try_from(end).unwrap_or(usize::MAX).clamp(self.cursor, body.len());
        // The record's last line is the one its terminator ends; do not count the terminator.
        let mut content_end = end;
        if content_end > self.cursor && body.get(content_end - 1) == Some(&b'\n') {
            content_end -= 1;
        }
        if content_end > self.cursor && body.get(content_end - 1) == Some(&b'\r') {
            content_end -= 1;
        }
        let counted = body.get(self.cursor..content_end).unwrap_or_default();
        self.breaks += counted.iter().filter(|b| **b == b'\n').count() as u64;
        self.cursor = content_end;
        let inside: u64 = record.iter().map(|f| f.iter().filter(|b| **b == b'\n').count() as u64).sum();
        // 1-based line of the record's first physical line, minus the breaks hidden in cells.
        self.row = (self.breaks + 1).saturating_sub(inside).saturating_sub(self.embedded);
        self.embedded += inside;
        self.row
    }
}

/// A product being assembled from its rows.
struct Draft {
    code: String,
    first_line: u64,
    title: Option<(String, u64)>,
    category: Option<(String, u64)>,
    description: String,
    skus: Vec<(NewSku, u64)>,
    failed: bool,
}

/// Parses a supplier's product sheet. `progress` is called with the number of data rows read so
/// far. Never fails as a whole: problems are in [`ImportReport::errors`], and the products whose
/// rows were all valid are in [`ImportReport::products`].
pub fn parse_products_csv(input: impl Read, progress: &mut dyn FnMut(u64)) -> ImportReport {
    let mut bytes = Vec::new();
    if let Err(e) = input.take(MAX_BYTES + 1).read_to_end(&mut bytes) {
        return file_error(format!("could not read the file: {e}"));
    }
    if bytes.len() as u64 > MAX_BYTES {
        return file_error(format!("the file is larger than {} MB; split it into several files", MAX_BYTES / (1024 * 1024)));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return file_error("the file is empty".to_string());
    }

    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
    let mut errors = Vec::new();
    let mut columns: Option<Columns> = None;
    let mut drafts: Vec<Draft> = Vec::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut rows_read: u64 = 0;
    let mut lines = SpreadsheetLines::default();
    let mut not_utf8_rows: u64 = 0;

    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // Reading bytes from memory with flexible rows cannot fail today; stay safe anyway.
                errors.push(RowError { line: lines.row + 1, column: None, message: format!("the file is not valid CSV here: {e}") });
                return ImportReport { products: Vec::new(), errors };
            }
        }
        let line = lines.advance(body, reader.position().byte(), &record);

        let mut cells = Vec::with_capacity(record.len());
        let mut bad_cell = None;
        for (i, field) in record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(text) => cells.push(text.to_string()),
                Err(_) => {
                    bad_cell.get_or_insert(i);
                    cells.push(String::from_utf8_lossy(field).into_owned());
                }
            }
        }

        let Some(cols) = &columns else {
            // The header row.
            if bad_cell.is_some() {
                return file_error_at(1, "the file is not UTF-8 text; in Excel save it as 'CSV UTF-8 (逗号分隔)'".to_string());
            }
            match Columns::parse(&cells) {
                Ok(c) => columns = Some(c),
                Err(mut header_errors) => {
                    errors.append(&mut header_errors);
                    return ImportReport { products: Vec::new(), errors };
                }
            }
            continue;
        };

        if cells.iter().all(|c| c.trim().is_empty()) {
            continue; // Spreadsheets export trailing empty rows such as ",,,,".
        }
        rows_read += 1;
        if rows_read > MAX_ROWS {
            errors.push(RowError {
                line,
                column: None,
                message: format!("the file has more than {MAX_ROWS} product rows; split it into several files"),
            });
            return ImportReport { products: Vec::new(), errors };
        }
        progress(rows_read);

        let code = cols.get(&cells, Field::ProductCode).to_string();
        let mut row_errors = Vec::new();
        if let Some(i) = bad_cell {
            not_utf8_rows += 1;
            row_errors.push(RowError {
                line,
                column: cols.names.get(i).map(|n| n.trim().to_string()),
                message: "this cell is not UTF-8 text; in Excel save the file as 'CSV UTF-8 (逗号分隔)'".to_string(),
            });
        }
        if code.is_empty() || code.chars().count() > MAX_CODE_CHARS || code.chars().any(char::is_control) {
            let message = if code.is_empty() {
                "product code is empty".to_string()
            } else {
                format!("product code must be at most {MAX_CODE_CHARS} characters without control characters")
            };
            errors.push(RowError { line, column: cols.name(Field::ProductCode), message });
            errors.append(&mut row_errors);
            continue;
        }
        let index = *by_code.entry(code.clone()).or_insert_with(|| {
            drafts.push(Draft {
                code: code.clone(),
                first_line: line,
                title: None,
                category: None,
                description: String::new(),
                skus: Vec::new(),
                failed: false,
            });
            drafts.len() - 1
        });
        let Some(draft) = drafts.get_mut(index) else {
            continue;
        };
        if row_errors.is_empty() {
            row_errors = apply_row(cols, &cells, line, draft);
        }
        if cells.get(cols.names.len()..).is_some_and(|extra| extra.iter().any(|c| !c.trim().is_empty())) {
            row_errors.push(RowError { line, column: None, message: "this row has more cells than the header has columns".to_string() });
        }
        if !row_errors.is_empty() {
            draft.failed = true;
            errors.append(&mut row_errors);
        }
    }

    if columns.is_none() {
        return file_error("the file has no header row".to_string());
    }
    progress(rows_read);
    if rows_read == 0 {
        errors.push(RowError { line: 0, column: None, message: "the file has a header but no product rows".to_string() });
    }
    if not_utf8_rows > 0 && not_utf8_rows == rows_read {
        errors.push(RowError {
            line: 0,
            column: None,
            message: "no row is UTF-8 text; the file is probably GBK: in Excel save it as 'CSV UTF-8 (逗号分隔)'".to_string(),
        });
    }

    let mut products = Vec::new();
    for draft in drafts {
        if draft.failed {
            continue;
        }
        match finish(draft) {
            Ok(product) => products.push(product),
            Err(e) => errors.push(e),
        }
    }
    errors.sort_by_key(|e| e.line);
    ImportReport { products, errors }
}

/// Checks one row and adds its SKU to the draft; returns the row's problems.
fn apply_row(cols: &Columns, cells: &[String], line: u64, draft: &mut Draft) -> Vec<RowError> {
    let mut errors = Vec::new();
    let mut err = |field: Field, message: String| errors.push(RowError { line, column: cols.name(field), message });

    // Product-level cells: the first non-empty value counts; later rows may leave them blank
    // (merged cells export that way) but must not contradict it.
    for (field, slot) in [(Field::Title, &mut draft.title), (Field::Category, &mut draft.category)] {
        let value = cols.get(cells, field);
        if value.is_empty() {
            continue;
        }
        match slot {
            Some((existing, first)) if existing != value => err(
                field,
                format!(
                    "product '{}' already has {} '{existing}' (line {first}); every row of a product must agree",
                    draft.code,
                    label(field)
                ),
            ),
            Some(_) => {}
            None => *slot = Some((value.to_string(), line)),
        }
    }
    if let Some((title, _)) = &draft.title
        && cols.get(cells, Field::Title) == title
        && let Err(e) = check_title(title)
    {
        err(Field::Title, e.message);
    }
    if let Some((category, _)) = &draft.category
        && cols.get(cells, Field::Category) == category
        && let Err(e) = check_text("category", category, MAX_CATEGORY_CHARS)
    {
        err(Field::Category, e.message);
    }
    let description = cols.get(cells, Field::Description);
    if !description.is_empty() {
        if draft.description.is_empty() {
            match check_text("description", description, MAX_DESCRIPTION_CHARS) {
                Ok(d) => draft.description = d,
                Err(e) => err(Field::Description, e.message),
            }
        } else if draft.description != description {
            err(
                Field::Description,
                format!("product '{}' already has a different description; every row of a product must agree", draft.code),
            );
        }
    }

    // SKU-level cells.
    let attributes = match cols.get(cells, Field::Attributes) {
        "" => "默认".to_string(),
        a => a.to_string(),
    };
    if let Some((_, first)) = draft.skus.iter().find(|(s, _)| s.attributes == attributes) {
        err(Field::Attributes, format!("product '{}' already has a SKU '{attributes}' (line {first})", draft.code));
    }
    let supply = parse_price(cols.get(cells, Field::SupplyPrice)).map_err(|m| err(Field::SupplyPrice, m)).ok();
    let retail = parse_price(cols.get(cells, Field::RetailPrice)).map_err(|m| err(Field::RetailPrice, m)).ok();
    let commission = parse_bps(cols.get(cells, Field::CommissionBps)).map_err(|m| err(Field::CommissionBps, m)).ok();
    let stock = parse_stock(cols.get(cells, Field::Stock)).map_err(|m| err(Field::Stock, m)).ok();
    let returnable = parse_returnable(cols.get(cells, Field::Returnable)).map_err(|m| err(Field::Returnable, m)).ok();

    if let (Some(supply_price), Some(retail_price), Some(commission_bps), Some(stock), Some(returnable)) =
        (supply, retail, commission, stock, returnable)
    {
        let sku = NewSku { attributes, supply_price, retail_price, commission_bps, stock, returnable };
        match sku.validate() {
            Ok(sku) => draft.skus.push((sku, line)),
            Err(e) => {
                let field = match e.code {
                    ErrorCode::InvalidPrice if supply_price.fen() <= 0 || supply_price > retail_price => Field::SupplyPrice,
                    ErrorCode::InvalidPrice => Field::RetailPrice,
                    ErrorCode::CommissionAboveCap | ErrorCode::AmountOutOfRange => Field::CommissionBps,
                    ErrorCode::InvalidQuantity => Field::Stock,
                    _ => Field::Attributes,
                };
                err(field, e.message);
            }
        }
    }
    errors
}

/// Turns a draft whose rows were all valid into a product.
fn finish(draft: Draft) -> Result<NewProduct, RowError> {
    let at_first = |message: String| RowError { line: draft.first_line, column: None, message };
    let Some((title, _)) = draft.title else {
        return Err(at_first(format!("product '{}' has no title in any row", draft.code)));
    };
    let Some((category, _)) = draft.category else {
        return Err(at_first(format!("product '{}' has no category in any row", draft.code)));
    };
    if draft.skus.len() > MAX_SKUS_PER_PRODUCT {
        return Err(at_first(format!(
            "product '{}' has {} SKUs; at most {MAX_SKUS_PER_PRODUCT} are allowed",
            draft.code,
            draft.skus.len()
        )));
    }
    let title = check_title(&title).map_err(|e: Error| at_first(e.message))?;
    Ok(NewProduct {
        title,
        description: draft.description,
        category,
        image_hue: hue_for_code(&draft.code),
        skus: draft.skus.into_iter().map(|(sku, _)| sku).collect(),
    })
}

/// A stable image hue for a product code: FNV-1a (64 bit) of its UTF-8 bytes, mod 360. The same
/// code always gets the same hue, on every platform and in every release.
pub fn hue_for_code(code: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in code.trim().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % 360) as i64
}

fn label(field: Field) -> &'static str {
    match field {
        Field::Title => "title",
        Field::Category => "category",
        _ => "value",
    }
}

fn parse_price(text: &str) -> Result<Money, String> {
    if text.is_empty() {
        return Err("price is empty".to_string());
    }
    let digits = text.trim_start_matches(['¥', '￥']).trim();
    Money::parse_yuan(digits).map_err(|e| e.message)
}

/// Basis points (`1500`) or a percentage with up to two decimals (`15%`, `12.5%`).
fn parse_bps(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("commission is empty".to_string());
    }
    let invalid = || format!("'{text}' is not a commission such as 1500 (basis points) or 15%");
    if let Some(percent) = text.strip_suffix(['%', '％']) {
        // A percentage has the shape of a yuan amount: whole part and up to two decimals.
        return Money::parse_yuan(percent.trim()).map(Money::fen).map_err(|_| invalid());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 9 {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

fn parse_stock(text: &str) -> Result<i64, String> {
    let invalid = || format!("'{text}' is not a stock count such as 500");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 12 {
        return Err(if text.is_empty() { "stock is empty".to_string() } else { invalid() });
    }
    text.parse().map_err(|_| invalid())
}

/// An empty cell (or a missing column) means returnable: the 7-day no-reason return is the legal
/// default for goods sold online; exempt goods (fresh food…) must say `no`.
fn parse_returnable(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "yes" | "y" | "true" | "是" | "1" | "支持" => Ok(true),
        "no" | "n" | "false" | "否" | "0" | "不支持" => Ok(false),
        _ => Err(format!("'{text}' is not one of yes/no, true/false, 是/否, 1/0")),
    }
}

fn file_error(message: String) -> ImportReport {
    file_error_at(0, message)
}

fn file_error_at(line: u64, message: String) -> ImportReport {
    ImportReport { products: Vec::new(), errors: vec![RowError { line, column: None, message }] }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "product_code,title,category,description,attributes,supply_price,retail_price,commission_bps,stock,returnable\n";

    fn parse(text: &str) -> ImportReport {
        parse_products_csv(text.as_bytes(), &mut |_| {})
    }

    fn lines(report: &ImportReport) -> Vec<(u64, Option<&str>)> {
        report.errors.iter().map(|e| (e.line, e.column.as_deref())).collect()
    }

    #[test]
    fn good_file() {
        let text = format!(
            "{HEADER}\
             OR-01,赣南脐橙 5斤装,生鲜水果,果园直发,规格:5斤装,29.80,45.90,1500,1200,no\n\
             OR-01,赣南脐橙 5斤装,生鲜水果,,规格:10斤装,54.8,82.90,1500,600,否\n\
             TS-02,纯棉T恤,服饰鞋包,\"重磅, 纯棉\",颜色:白色; 尺码:M,29,49.90,15%,300,yes\n"
        );
        let mut seen = Vec::new();
        let report = parse_products_csv(text.as_bytes(), &mut |n| seen.push(n));
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.products.len(), 2);
        let orange = &report.products[0];
        assert_eq!(orange.title, "赣南脐橙 5斤装");
        assert_eq!(orange.description, "果园直发");
        assert_eq!(orange.category, "生鲜水果");
        assert_eq!(orange.skus.len(), 2);
        assert_eq!(orange.skus[0].supply_price.fen(), 2980);
        assert_eq!(orange.skus[1].supply_price.fen(), 5480);
        assert_eq!(orange.skus[1].retail_price.fen(), 8290);
        assert!(!orange.skus[0].returnable && !orange.skus[1].returnable);
        assert_eq!(orange.image_hue, hue_for_code("OR-01"));
        let shirt = &report.products[1];
        assert_eq!(shirt.description, "重磅, 纯棉");
        assert_eq!(shirt.skus[0].attributes, "颜色:白色; 尺码:M");
        assert_eq!(shirt.skus[0].commission_bps, 1500);
        assert!(shirt.skus[0].returnable);
        assert_eq!(seen.first(), Some(&1));
        assert_eq!(seen.last(), Some(&3));
    }

    #[test]
    fn mixed_rows_report_exact_lines_and_drop_whole_products() {
        let text = format!(
            "{HEADER}\
             A,好商品,家居日用,,规格:大,10,20,1000,100,yes\n\
             B,坏商品,家居日用,,规格:大,10,20,1000,100,yes\n\
             \n\
             B,坏商品,家居日用,,规格:小,abc,20,1000,100,yes\n\
             C,\"多行\n描述商品\",家居日用,,,10,20,1000,100,maybe\n\
             D,冲突商品,家居日用,,规格:大,10,20,1000,100,1\n\
             D,冲突商品,美妆个护,,规格:小,10,20,1000,100,0\n\
             E,佣金过高,家居日用,,,18,20,2000,100,\n\
             ,没有编码,家居日用,,,10,20,1000,100,\n\
             F,好商品二,家居日用,,,10,20,1000,-5,\n\
             G,第三个好商品,家居日用,,,10,20,1000,7,\n"
        );
        let report = parse(&text);
        assert_eq!(report.products.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["好商品", "第三个好商品"]);
        assert_eq!(
            lines(&report),
            [
                (5, Some("supply_price")),
                (6, Some("title")),
                (6, Some("returnable")),
                (8, Some("category")),
                (9, Some("commission_bps")),
                (10, Some("product_code")),
                (11, Some("stock")),
            ]
        );
    }

    #[test]
    fn windows_line_endings_blank_rows_and_multiline_cells() {
        let text = HEADER.replace('\n', "\r\n")
            + "\r\n\r\nA,\"两行\r\n描述\",家居日用,,,10,20,1000,5,\r\n,,,,,,,,,\r\nB,好,家居日用,\"第一行\r\n第二行\r\n第三行\",,10,20,1000,5,\r\nC,坏,家居日用,,,x,20,1000,5,";
        let report = parse(&text);
        assert_eq!(report.products.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["好"]);
        assert_eq!(lines(&report), [(4, Some("title")), (7, Some("supply_price"))]);
    }

    #[test]
    fn bom_and_chinese_headers() {
        let text = "\u{feff}商品编码,商品名称,类目,商品描述,规格,供货价（元）,零售价(元),佣金基点,库存,七天无理由,备注\n\
                    T1,安溪铁观音 250g,茶酒冲饮,兰花香,规格:250g,58.00,98.00,2000,400,是,新品\n";
        let report = parse(text);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.products.len(), 1);
        assert_eq!(report.products[0].skus[0].retail_price.fen(), 9800);
        assert!(report.products[0].skus[0].returnable);

        // Errors name the column as the file does.
        let bad = "\u{feff}商品编码,商品名称,类目,规格,供货价,零售价,佣金基点,库存\nT1,铁观音,茶酒冲饮,,58,50,100,1\n";
        let report = parse(bad);
        assert_eq!(lines(&report), [(2, Some("供货价"))]);
    }

    #[test]
    fn missing_and_duplicate_columns() {
        let report = parse("product_code,title,category,supply_price,retail_price,stock\nA,x,y,1,2,3\n");
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 1);
        assert!(report.errors[0].message.contains("commission_bps"), "{}", report.errors[0].message);
        let report = parse("product_code,商品编码,title,category,supply_price,retail_price,commission_bps,stock\n");
        assert_eq!(lines(&report), [(1, Some("商品编码"))]);
        assert!(parse("").errors[0].message.contains("empty"));
        let report = parse(HEADER);
        assert_eq!(lines(&report), [(0, None)]);
        assert!(report.errors[0].message.contains("no product rows"));
        // Extra cells beyond the header are an error; unknown columns are ignored.
        let report = parse(&format!("{}{}", HEADER.replace('\n', ",备注\n"), "A,x,y,,,1,2,0,3,,note,extra\n"));
        assert_eq!(lines(&report), [(2, None)]);
        let report = parse(&format!("{}{}", HEADER.replace('\n', ",备注\n"), "A,x,y,,,1,2,0,3,,note\n"));
        assert!(report.errors.is_empty() && report.products.len() == 1);
    }

    #[test]
    fn limits() {
        let mut text = String::from(HEADER);
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("P{i},商品{i},家居日用,,,10,20,1000,5,\n"));
        }
        let report = parse(&text);
        assert!(report.products.is_empty());
        assert_eq!(lines(&report), [(MAX_ROWS + 2, None)]);
        assert!(report.errors[0].message.contains("10000"));

        let mut ok = String::from(HEADER);
        for i in 0..MAX_ROWS {
            ok.push_str(&format!("P{},商品,家居日用,,规格:{i},10,20,1000,5,\n", i / 50));
        }
        let mut last = 0;
        let report = parse_products_csv(ok.as_bytes(), &mut |n| last = n);
        assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
        assert_eq!(report.products.len(), (MAX_ROWS / 50) as usize);
        assert_eq!(last, MAX_ROWS);

        let huge = format!("{HEADER}{}", "x".repeat(MAX_BYTES as usize));
        let report = parse(&huge);
        assert!(report.products.is_empty());
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 0);
        assert!(report.errors[0].message.contains("5 MB"));
    }

    #[test]
    fn too_many_skus_and_duplicate_attributes() {
        let mut text = String::from(HEADER);
        for i in 0..=MAX_SKUS_PER_PRODUCT {
            text.push_str(&format!("P,商品,家居日用,,规格:{i},10,20,1000,5,\n"));
        }
        text.push_str("Q,商品二,家居日用,,规格:大,10,20,1000,5,\nQ,,,,规格:大,10,20,1000,5,\n");
        let report = parse(&text);
        assert!(report.products.is_empty());
        let q_line = MAX_SKUS_PER_PRODUCT as u64 + 4;
        assert_eq!(lines(&report), [(2, None), (q_line, Some("attributes"))]);
    }

    #[test]
    fn not_utf8_is_reported() {
        // "商品" in GBK.
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"A,\xc9\xcc\xc6\xb7,x,,,10,20,1000,5,\n");
        let report = parse_products_csv(bytes.as_slice(), &mut |_| {});
        assert!(report.products.is_empty());
        assert_eq!(lines(&report), [(0, None), (2, Some("title"))]);

        // A bad row sinks its whole product, even when a later row of it is fine.
        bytes.extend_from_slice("A,商品,x,,规格:2,10,20,1000,5,\n".as_bytes());
        let report = parse_products_csv(bytes.as_slice(), &mut |_| {});
        assert!(report.products.is_empty());
        assert_eq!(lines(&report), [(2, Some("title"))]);
    }

    #[test]
    fn value_parsers() {
        assert_eq!(parse_price("¥12.50"), Ok(Money::from_fen(1250)));
        assert!(parse_price("12.505").is_err());
        assert!(parse_price("-1").is_err());
        assert_eq!(parse_bps("1500"), Ok(1500));
        assert_eq!(parse_bps("12.5%"), Ok(1250));
        assert!(parse_bps("1.5").is_err());
        assert!(parse_bps("-100").is_err());
        assert_eq!(parse_stock("0"), Ok(0));
        assert!(parse_stock("1.5").is_err());
        for yes in ["yes", "TRUE", "是", "1", ""] {
            assert_eq!(parse_returnable(yes), Ok(true), "{yes}");
        }
        for no in ["no", "False", "否", "0"] {
            assert_eq!(parse_returnable(no), Ok(false), "{no}");
        }
        assert!(parse_returnable("maybe").is_err());
    }

    #[test]
    fn hue_is_stable() {
        assert_eq!(hue_for_code("OR-01"), hue_for_code(" OR-01 "));
        assert!((0..360).contains(&hue_for_code("任意编码")));
        // FNV-1a of "" is the offset basis.
        assert_eq!(hue_for_code(""), (0xcbf2_9ce4_8422_2325u64 % 360) as i64);
        let hues: std::collections::HashSet<i64> = (0..100).map(|i| hue_for_code(&format!("SKU-{i}"))).collect();
        assert!(hues.len() > 50);
    }
}
