//! The demo catalogue: four invented suppliers and the goods a Chinese S2B2C supply platform
//! would typically list, as static data. `sharemall serve --demo` turns these into suppliers,
//! products and SKUs; every entry passes the same validation as a supplier's own submission.

use sharemall_domain::catalog::{MAX_SKUS_PER_PRODUCT, NewSku, check_text, check_title};
use sharemall_domain::{Error, Money};
use sharemall_store::ops::catalog::NewProduct;

use crate::import::{MAX_CATEGORY_CHARS, MAX_DESCRIPTION_CHARS};

/// A supplier (S) with its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSupplier {
    pub name: &'static str,
    pub contact: &'static str,
    pub products: &'static [DemoProduct],
}

/// A product with its SKUs. `returnable` applies to every SKU (false for fresh food).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoProduct {
    pub title: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    /// Hue (0–359) of the generated product image, fitting the goods.
    pub image_hue: i64,
    pub returnable: bool,
    pub skus: &'static [DemoSku],
}

/// One SKU; prices in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSku {
    pub attributes: &'static str,
    pub supply_fen: i64,
    pub retail_fen: i64,
    pub commission_bps: i64,
    pub stock: i64,
}

const fn sku(attributes: &'static str, supply_fen: i64, retail_fen: i64, commission_bps: i64, stock: i64) -> DemoSku {
    DemoSku { attributes, supply_fen, retail_fen, commission_bps, stock }
}

/// Turns a demo product into a product submission, validating it exactly like a supplier's own.
pub fn to_new_product(p: &DemoProduct) -> Result<NewProduct, Error> {
    let title = check_title(p.title)?;
    let description = check_text("description", p.description, MAX_DESCRIPTION_CHARS)?;
    let category = check_text("category", p.category, MAX_CATEGORY_CHARS)?;
    if category.is_empty() {
        return Err(Error::invalid("category must not be empty"));
    }
    if !(0..360).contains(&p.image_hue) {
        return Err(Error::invalid("image hue must be 0 to 359"));
    }
    if p.skus.is_empty() || p.skus.len() > MAX_SKUS_PER_PRODUCT {
        return Err(Error::invalid(format!("a product needs 1 to {MAX_SKUS_PER_PRODUCT} SKUs")));
    }
    let skus = p
        .skus
        .iter()
        .map(|s| {
            NewSku {
                attributes: s.attributes.to_string(),
                supply_price: Money::from_fen(s.supply_fen),
                retail_price: Money::from_fen(s.retail_fen),
                commission_bps: s.commission_bps,
                stock: s.stock,
                returnable: p.returnable,
            }
            .validate()
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(NewProduct { title, description, category, image_hue: p.image_hue, skus })
}

/// Every demo product with its supplier, in catalogue order.
pub fn all_products() -> impl Iterator<Item = (&'static DemoSupplier, &'static DemoProduct)> {
    SUPPLIERS.iter().flat_map(|s| s.products.iter().map(move |p| (s, p)))
}

pub const SUPPLIERS: &[DemoSupplier] = &[
    DemoSupplier { name: "云岭山珍农业发展有限公司", contact: "李春华 0871-6588 2316", products: YUNLING },
    DemoSupplier { name: "厦门闽香园食品有限公司", contact: "陈志鹏 0592-2277 6081", products: MINXIANGYUAN },
    DemoSupplier { name: "义乌市优居日用品有限公司", contact: "王丽娟 0579-8555 3207", products: YOUJU },
    DemoSupplier { name: "深圳市恒通优选供应链有限公司", contact: "张伟 0755-2698 4415", products: HENGTONG },
];

/// Yunnan highland fruit, tea and coffee.
const YUNLING: &[DemoProduct] = &[
    DemoProduct {
        title: "云南冰糖橙 5斤装 新鲜现摘 果径65mm+",
        description: "产自哀牢山高海拔果园，日照充足，皮薄多汁，甜酸适中。产地直发，坏果包赔。",
        category: "生鲜水果",
        image_hue: 30,
        returnable: false,
        skus: &[sku("规格:5斤装 中果", 2980, 4590, 1500, 1200), sku("规格:10斤装 大果", 5480, 8290, 1500, 600)],
    },
    DemoProduct {
        title: "云南高原蓝莓 4盒装 125g/盒 单果15mm+",
        description: "澄江高原种植，果粉完整，口感清甜。全程冷链配送，收货后请尽快冷藏。",
        category: "生鲜水果",
        image_hue: 235,
        returnable: false,
        skus: &[sku("规格:4盒装 15mm+", 4500, 6990, 1200, 400), sku("规格:8盒装 18mm+", 8800, 13900, 1200, 200)],
    },
    DemoProduct {
        title: "云南华坪芒果 5斤装 单果400g+ 香甜软糯",
        description: "金沙江干热河谷的晚熟芒果，果肉细腻少纤维。七八成熟采摘，常温放置2–3天软熟后食用。",
        category: "生鲜水果",
        image_hue: 48,
        returnable: false,
        skus: &[sku("规格:5斤装", 2600, 3990, 1000, 800), sku("规格:9斤装", 4400, 6590, 1000, 400)],
    },
    DemoProduct {
        title: "蒙自突尼斯软籽石榴 6个装 单果350g+",
        description: "籽粒饱满，软籽可直接嚼食，汁多味甜。每个石榴单独网套包装，运输更安心。",
        category: "生鲜水果",
        image_hue: 355,
        returnable: false,
        skus: &[sku("规格:6个装", 3300, 4990, 1200, 700), sku("规格:12个装", 6200, 9290, 1200, 300)],
    },
    DemoProduct {
        title: "云南红心火龙果 5斤装 中大果 当季鲜果",
        description: "红心品种，果肉紫红，清甜多汁。当天采摘当天发货，建议冷藏保存。",
        category: "生鲜水果",
        image_hue: 320,
        returnable: false,
        skus: &[sku("规格:5斤装 中果", 2200, 3290, 1000, 900), sku("规格:8斤装 大果", 3500, 5190, 1000, 450)],
    },
    DemoProduct {
        title: "宾川沃柑 皮薄易剥 汁水充足 5斤/10斤装",
        description: "宾川干热气候孕育的沃柑，果皮薄、好剥不粘手，甜度可达13度以上。",
        category: "生鲜水果",
        image_hue: 28,
        returnable: false,
        skus: &[sku("规格:5斤装", 1850, 2790, 1000, 1500), sku("规格:10斤装", 3400, 4990, 1000, 800)],
    },
    DemoProduct {
        title: "昭通丑苹果 冰糖心 5斤装 果径80mm+",
        description: "高原昼夜温差大，糖分沉积形成冰糖心。外表不够漂亮，脆甜却一口就知道。",
        category: "生鲜水果",
        image_hue: 2,
        returnable: false,
        skus: &[sku("规格:5斤装 80mm+", 2350, 3590, 1200, 1000), sku("规格:10斤装 85mm+", 4500, 6790, 1200, 500)],
    },
    DemoProduct {
        title: "保山小粒咖啡豆 中度烘焙 454g 阿拉比卡",
        description: "云南保山产区阿拉比卡咖啡豆，坚果与焦糖风味，酸度柔和。每周烘焙，新鲜发货。",
        category: "茶酒冲饮",
        image_hue: 25,
        returnable: true,
        skus: &[sku("规格:454g 咖啡豆", 5200, 7900, 1500, 300), sku("规格:454g 研磨粉", 5200, 7900, 1500, 300)],
    },
    DemoProduct {
        title: "勐海古树普洱熟茶 357g 七子饼 2019年压制",
        description: "勐海大叶种晒青毛茶渥堆发酵，汤色红浓，陈香明显，耐泡。宜常温避光保存，越陈越香。",
        category: "茶酒冲饮",
        image_hue: 15,
        returnable: true,
        skus: &[sku("规格:单饼357g", 9800, 16800, 2000, 250), sku("规格:整提7饼", 62000, 105000, 2000, 50)],
    },
    DemoProduct {
        title: "滇红金丝红茶 特级 250g 罐装 蜜香浓郁",
        description: "凤庆大叶种单芽制作，金毫显露，汤色红艳明亮，带花蜜香。",
        category: "茶酒冲饮",
        image_hue: 10,
        returnable: true,
        skus: &[sku("规格:250g 罐装", 6800, 11800, 1800, 300), sku("规格:500g 礼盒装", 12800, 21800, 1800, 120)],
    },
];

/// Snacks and Fujian tea.
const MINXIANGYUAN: &[DemoProduct] = &[
    DemoProduct {
        title: "风干手撕牛肉干 250g 五香/香辣 独立小包装",
        description: "精选牛后腿肉，低温风干，越嚼越香。独立小包装，办公追剧随手一包。",
        category: "休闲零食",
        image_hue: 12,
        returnable: true,
        skus: &[
            sku("口味:五香; 规格:250g", 3200, 4990, 1500, 800),
            sku("口味:香辣; 规格:250g", 3200, 4990, 1500, 800),
            sku("口味:五香; 规格:500g", 5900, 8990, 1500, 400),
        ],
    },
    DemoProduct {
        title: "每日坚果 混合果仁 30袋装 750g",
        description: "腰果、巴旦木、榛子、蔓越莓干等七种搭配，每袋25g刚好一天的量。充氮保鲜，不添加蔗糖。",
        category: "休闲零食",
        image_hue: 35,
        returnable: true,
        skus: &[sku("规格:15袋装 375g", 3900, 5990, 1500, 1000), sku("规格:30袋装 750g", 7200, 10990, 1500, 600)],
    },
    DemoProduct {
        title: "台式肉松饼 传统糕点 整箱约40枚",
        description: "酥皮层层起酥，内馅肉松香甜绵密。每枚独立包装，早餐下午茶都合适。",
        category: "休闲零食",
        image_hue: 40,
        returnable: true,
        skus: &[sku("规格:500g 约20枚", 1650, 2490, 1000, 2000), sku("规格:1000g 约40枚", 2980, 4490, 1000, 1200)],
    },
    DemoProduct {
        title: "芒果干 无添加蔗糖 酸甜软糯 250g/500g",
        description: "选用成熟芒果切片低温烘干，保留果肉本来的酸甜与韧劲。",
        category: "休闲零食",
        image_hue: 45,
        returnable: true,
        skus: &[sku("规格:250g", 1580, 2390, 1200, 1500), sku("规格:500g", 2900, 4390, 1200, 900)],
    },
    DemoProduct {
        title: "鼓浪屿馅饼 礼盒装 500g 绿豆/多口味",
        description: "厦门老字号做法，饼皮酥松，馅料细腻不甜腻。礼盒包装，伴手礼首选。",
        category: "休闲零食",
        image_hue: 50,
        returnable: true,
        skus: &[sku("口味:绿豆; 规格:礼盒500g", 2200, 3390, 1200, 600), sku("口味:混合6口味; 规格:礼盒500g", 2300, 3490, 1200, 600)],
    },
    DemoProduct {
        title: "海苔夹心脆 芝麻巴旦木 40g×3罐",
        description: "两片海苔夹入芝麻与巴旦木碎，低温烘烤，酥脆咸香。",
        category: "休闲零食",
        image_hue: 140,
        returnable: true,
        skus: &[sku("规格:40g×3罐", 2650, 3990, 1200, 1100)],
    },
    DemoProduct {
        title: "老式麻辣花生 椒香脆口 500g 独立小包",
        description: "红皮小粒花生配汉源花椒与二荆条辣椒，麻辣脆香，下酒佐餐都好。",
        category: "休闲零食",
        image_hue: 5,
        returnable: true,
        skus: &[sku("口味:麻辣; 规格:500g", 1100, 1690, 1000, 3000), sku("口味:藤椒; 规格:500g", 1100, 1690, 1000, 2500)],
    },
    DemoProduct {
        title: "安溪铁观音 清香型 2024秋茶 250g",
        description: "安溪西坪核心产区，兰花香显，回甘持久。真空小泡袋包装，开袋即泡。",
        category: "茶酒冲饮",
        image_hue: 95,
        returnable: true,
        skus: &[sku("规格:250g 罐装", 5800, 9800, 2000, 400), sku("规格:500g 礼盒装", 10800, 17800, 2000, 150)],
    },
    DemoProduct {
        title: "武夷山大红袍 岩茶 浓香型 32泡 小泡袋",
        description: "武夷岩茶传统炭焙工艺，岩韵明显，焙火香醇厚。每泡8g，出差旅行方便携带。",
        category: "茶酒冲饮",
        image_hue: 18,
        returnable: true,
        skus: &[sku("规格:32泡 约256g", 8800, 14800, 2000, 200)],
    },
];

/// Household goods, personal care and baby products.
const YOUJU: &[DemoProduct] = &[
    DemoProduct {
        title: "原生木浆抽纸 3层×100抽 整箱",
        description: "100%原生木浆，柔韧不掉屑，湿水不易破。整箱发货，家用囤货更划算。",
        category: "家居日用",
        image_hue: 200,
        returnable: true,
        skus: &[sku("规格:12包", 1800, 2590, 800, 3000), sku("规格:24包整箱", 3400, 4790, 800, 2000)],
    },
    DemoProduct {
        title: "三合一洗衣凝珠 持久留香 52颗盒装",
        description: "洗涤、护色、留香三合一，冷水也能快速溶解。一次一颗，用量不用再估算。",
        category: "家居日用",
        image_hue: 190,
        returnable: true,
        skus: &[
            sku("香型:樱花; 规格:52颗", 2700, 3990, 1000, 1500),
            sku("香型:海洋; 规格:52颗", 2700, 3990, 1000, 1500),
            sku("香型:樱花; 规格:104颗", 4900, 7290, 1000, 700),
        ],
    },
    DemoProduct {
        title: "316不锈钢保温杯 大容量 商务便携",
        description: "316医用级不锈钢内胆，12小时保温保冷。弹盖单手开合，杯身防滑磨砂。",
        category: "家居日用",
        image_hue: 210,
        returnable: true,
        skus: &[
            sku("颜色:雾霾蓝; 容量:500ml", 3500, 5900, 1500, 800),
            sku("颜色:奶白; 容量:500ml", 3500, 5900, 1500, 800),
            sku("颜色:曜石黑; 容量:750ml", 4200, 6900, 1500, 500),
        ],
    },
    DemoProduct {
        title: "硅藻泥浴室地垫 吸水速干 防滑 60×39cm",
        description: "天然硅藻土压制，踩上去水渍几秒就干，不发霉不异味。背面防滑硅胶垫。",
        category: "家居日用",
        image_hue: 35,
        returnable: true,
        skus: &[sku("颜色:浅灰; 尺寸:60×39cm", 2100, 3590, 1500, 600), sku("颜色:米白; 尺寸:60×39cm", 2100, 3590, 1500, 600)],
    },
    DemoProduct {
        title: "厨房免打孔收纳置物架 碳钢 双层/三层",
        description: "加厚碳钢烤漆，承重20kg，台面调料瓶罐一架收好。免工具安装，五分钟搞定。",
        category: "家居日用",
        image_hue: 220,
        returnable: true,
        skus: &[sku("规格:双层 40cm", 3800, 5990, 1200, 400), sku("规格:三层 40cm", 5100, 7990, 1200, 300)],
    },
    DemoProduct {
        title: "加厚手提式垃圾袋 45×50cm 150只",
        description: "手提抽绳设计，满袋一拉就走；加厚材质，装湿垃圾也不易漏。",
        category: "家居日用",
        image_hue: 120,
        returnable: true,
        skus: &[sku("规格:150只 (5卷)", 1050, 1590, 800, 5000)],
    },
    DemoProduct {
        title: "氨基酸洗面奶 温和控油 男女适用 120g",
        description: "氨基酸表活，泡沫绵密，洗后不紧绷。敏感肌也能日常使用。",
        category: "美妆个护",
        image_hue: 185,
        returnable: true,
        skus: &[sku("规格:120g", 2900, 4990, 1800, 1200), sku("规格:120g×2支", 5400, 8990, 1800, 600)],
    },
    DemoProduct {
        title: "玻尿酸补水面膜 保湿修护 25ml×10片",
        description: "每片25ml精华液，天丝膜布服帖透气。熬夜后、换季干燥时敷一片，肌肤水润有光泽。",
        category: "美妆个护",
        image_hue: 195,
        returnable: true,
        skus: &[sku("规格:10片/盒", 3500, 5990, 2000, 1000), sku("规格:30片 (3盒)", 9900, 16990, 2000, 400)],
    },
    DemoProduct {
        title: "生姜无硅油洗发水 去屑止痒 500ml",
        description: "生姜根提取物配合吡罗克酮乙醇胺盐，去屑止痒，清爽蓬松。",
        category: "美妆个护",
        image_hue: 40,
        returnable: true,
        skus: &[sku("规格:500ml", 2600, 4290, 1500, 900), sku("规格:500ml×2瓶", 4900, 7990, 1500, 450)],
    },
    DemoProduct {
        title: "含氟防蛀薄荷牙膏 120g×4支 家庭装",
        description: "含氟配方坚固牙釉质，清新薄荷口气持久。四支家庭装，一家人够用三个月。",
        category: "美妆个护",
        image_hue: 165,
        returnable: true,
        skus: &[sku("规格:120g×4支", 2100, 3290, 1200, 2000)],
    },
    DemoProduct {
        title: "保湿润唇膏 滋润不油腻 3.5g 三支装",
        description: "乳木果油与维生素E滋润双唇，质地轻薄不黏腻，秋冬必备。",
        category: "美妆个护",
        image_hue: 340,
        returnable: true,
        skus: &[sku("色号:无色; 规格:3支装", 1900, 3190, 1500, 1500), sku("色号:樱桃红; 规格:3支装", 2100, 3490, 1500, 1000)],
    },
    DemoProduct {
        title: "婴儿纸尿裤 超薄透气 干爽防漏",
        description: "0.1cm超薄芯体，3D立体防漏围，夜间也能一觉睡到天亮。未拆封可7天无理由退货。",
        category: "母婴用品",
        image_hue: 205,
        returnable: true,
        skus: &[
            sku("尺码:M; 规格:64片", 6200, 8990, 1000, 800),
            sku("尺码:L; 规格:54片", 6200, 8990, 1000, 800),
            sku("尺码:XL; 规格:46片", 6200, 8990, 1000, 600),
        ],
    },
    DemoProduct {
        title: "婴儿棉柔巾 干湿两用 100抽×6包",
        description: "纯棉材质，干用擦嘴擦手，湿用代替湿巾。无荧光剂，宝宝娇嫩肌肤也能放心用。",
        category: "母婴用品",
        image_hue: 300,
        returnable: true,
        skus: &[sku("规格:100抽×6包", 2500, 3790, 1000, 1800)],
    },
    DemoProduct {
        title: "宝宝硅胶辅食碗 吸盘防摔 带勺套装",
        description: "食品级硅胶，底部强力吸盘，宝宝推不倒摔不碎。可进微波炉、洗碗机。",
        category: "母婴用品",
        image_hue: 50,
        returnable: true,
        skus: &[
            sku("颜色:奶油黄", 2300, 3990, 1500, 500),
            sku("颜色:雾霾蓝", 2300, 3990, 1500, 500),
            sku("颜色:樱花粉", 2300, 3990, 1500, 500),
        ],
    },
    DemoProduct {
        title: "婴儿恒温调奶器 1.2L 智能保温 温奶",
        description: "一键设定45℃恒温，夜里冲奶不用再等水凉。304不锈钢加热盘，除氯模式更安心。",
        category: "母婴用品",
        image_hue: 180,
        returnable: true,
        skus: &[sku("规格:1.2L 标准款", 9800, 15900, 1500, 300)],
    },
];

/// Clothing, bags and phone accessories.
const HENGTONG: &[DemoProduct] = &[
    DemoProduct {
        title: "重磅纯棉圆领短袖T恤 男女同款 宽松",
        description: "230g重磅精梳棉，厚实不透，洗后不易变形。落肩宽松版型，男女都好穿。",
        category: "服饰鞋包",
        image_hue: 210,
        returnable: true,
        skus: &[
            sku("颜色:白色; 尺码:M", 2900, 4990, 1800, 600),
            sku("颜色:白色; 尺码:L", 2900, 4990, 1800, 600),
            sku("颜色:雾霾蓝; 尺码:M", 2900, 4990, 1800, 400),
            sku("颜色:雾霾蓝; 尺码:L", 2900, 4990, 1800, 400),
        ],
    },
    DemoProduct {
        title: "冰丝防晒衣 UPF50+ 女款 连帽透气 轻薄",
        description: "冰丝面料凉感透气，UPF50+有效阻隔紫外线。可折叠收纳，通勤出游随身带。",
        category: "服饰鞋包",
        image_hue: 190,
        returnable: true,
        skus: &[
            sku("颜色:冰川蓝; 尺码:M", 4500, 7900, 2000, 500),
            sku("颜色:奶白; 尺码:L", 4500, 7900, 2000, 500),
            sku("颜色:樱花粉; 尺码:M", 4500, 7900, 2000, 400),
        ],
    },
    DemoProduct {
        title: "飞织网面轻便跑步鞋 透气缓震 男女款",
        description: "一体飞织鞋面透气轻盈，EVA缓震中底，日常慢跑和通勤都舒适。",
        category: "服饰鞋包",
        image_hue: 220,
        returnable: true,
        skus: &[
            sku("颜色:黑白; 尺码:38", 8800, 13900, 1500, 200),
            sku("颜色:黑白; 尺码:40", 8800, 13900, 1500, 300),
            sku("颜色:黑白; 尺码:42", 8800, 13900, 1500, 300),
            sku("颜色:灰蓝; 尺码:42", 8800, 13900, 1500, 200),
        ],
    },
    DemoProduct {
        title: "15.6寸电脑双肩包 大容量 防泼水 通勤",
        description: "独立电脑仓可放15.6寸笔记本，多隔层收纳；防泼水面料，雨天通勤也不怕。",
        category: "服饰鞋包",
        image_hue: 215,
        returnable: true,
        skus: &[sku("颜色:经典黑", 7200, 11900, 1500, 400), sku("颜色:燕麦灰", 7200, 11900, 1500, 300)],
    },
    DemoProduct {
        title: "日系帆布托特包 大容量 单肩 文艺",
        description: "12安加厚帆布，内置拉链暗袋。装得下A4文件和笔记本电脑，上班上课都合适。",
        category: "服饰鞋包",
        image_hue: 40,
        returnable: true,
        skus: &[sku("颜色:米白", 2100, 3490, 1500, 800), sku("颜色:卡其", 2100, 3490, 1500, 600)],
    },
    DemoProduct {
        title: "20W PD快充充电器 Type-C 3C认证",
        description: "20W PD协议快充，兼容主流手机与平板。3C认证，多重保护，充电不发烫。",
        category: "数码配件",
        image_hue: 205,
        returnable: true,
        skus: &[sku("规格:单充电头", 1900, 2990, 1200, 2000), sku("规格:充电头+1m数据线", 2500, 3990, 1200, 1500)],
    },
    DemoProduct {
        title: "10000mAh 超薄充电宝 22.5W快充 自带线",
        description: "机身仅1.2cm厚，自带Type-C与苹果双线，出门不用再带数据线。可带上飞机。",
        category: "数码配件",
        image_hue: 260,
        returnable: true,
        skus: &[sku("颜色:星空黑", 6500, 9900, 1200, 700), sku("颜色:月光白", 6500, 9900, 1200, 700)],
    },
    DemoProduct {
        title: "半入耳式蓝牙耳机 通话降噪 30小时续航",
        description: "蓝牙5.3稳定连接，双麦克风通话降噪，充电仓合计30小时续航。",
        category: "数码配件",
        image_hue: 275,
        returnable: true,
        skus: &[sku("颜色:白色", 7800, 12900, 1500, 600), sku("颜色:黑色", 7800, 12900, 1500, 500)],
    },
    DemoProduct {
        title: "60W编织快充数据线 Type-C 双头",
        description: "尼龙编织线身，弯折2万次不断。支持60W快充与数据传输。",
        category: "数码配件",
        image_hue: 180,
        returnable: true,
        skus: &[sku("规格:1米", 900, 1490, 1200, 3000), sku("规格:2米", 1200, 1990, 1200, 2000)],
    },
    DemoProduct {
        title: "车载磁吸手机支架 出风口 360°旋转",
        description: "强磁吸附，单手放取；360°旋转横竖屏随心切换，颠簸路段也稳固。",
        category: "数码配件",
        image_hue: 230,
        returnable: true,
        skus: &[sku("颜色:黑色", 1500, 2590, 1500, 1500)],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    #[test]
    fn enough_products_suppliers_and_categories() {
        assert_eq!(SUPPLIERS.len(), 4);
        assert!(all_products().count() >= 36, "{} products", all_products().count());
        let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, p) in all_products() {
            *per_category.entry(p.category).or_default() += 1;
        }
        assert!(per_category.len() >= 6, "{per_category:?}");
        assert!(per_category.values().all(|n| *n >= 3), "{per_category:?}");
        let names: HashSet<&str> = SUPPLIERS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), SUPPLIERS.len());
    }

    #[test]
    fn every_product_converts() {
        for (supplier, p) in all_products() {
            match to_new_product(p) {
                Ok(new) => {
                    assert_eq!(new.title, p.title);
                    assert_eq!(new.skus.len(), p.skus.len());
                    assert!(new.skus.iter().all(|s| s.returnable == p.returnable));
                }
                Err(e) => panic!("{} / {}: {e}", supplier.name, p.title),
            }
        }
    }

    #[test]
    fn titles_unique_and_skus_distinct() {
        let mut titles = HashSet::new();
        for (_, p) in all_products() {
            assert!(titles.insert(p.title), "duplicate title {}", p.title);
            let attributes: HashSet<&str> = p.skus.iter().map(|s| s.attributes).collect();
            assert_eq!(attributes.len(), p.skus.len(), "duplicate SKU attributes in {}", p.title);
            assert!((1..=4).contains(&p.skus.len()), "{}", p.title);
            assert!(p.description.chars().count() >= 10, "{}", p.title);
        }
    }

    #[test]
    fn prices_are_believable() {
        for (_, p) in all_products() {
            for s in p.skus {
                let margin_bps = (s.retail_fen - s.supply_fen) * 10_000 / s.retail_fen;
                assert!((2_000..=4_500).contains(&margin_bps), "{} {}: margin {margin_bps} bp", p.title, s.attributes);
                assert!((500..=2_000).contains(&s.commission_bps), "{} {}", p.title, s.attributes);
                assert!(s.retail_fen * s.commission_bps / 10_000 <= s.retail_fen - s.supply_fen, "{} {}", p.title, s.attributes);
                assert!((50..=5_000).contains(&s.stock), "{} {}", p.title, s.attributes);
            }
        }
    }

    #[test]
    fn fresh_food_is_not_returnable() {
        for (_, p) in all_products() {
            if p.category == "生鲜水果" {
                assert!(!p.returnable, "{}", p.title);
            }
            assert!((0..360).contains(&p.image_hue));
        }
    }

    #[test]
    fn invalid_demo_data_is_rejected() {
        const COMMISSION_ABOVE_MARGIN: &[DemoSku] = &[sku("默认", 900, 1000, 2000, 10)];
        const FINE: &[DemoSku] = &[sku("默认", 500, 1000, 1000, 10)];
        let bad = DemoProduct {
            title: "坏商品",
            description: "",
            category: "家居日用",
            image_hue: 10,
            returnable: true,
            skus: COMMISSION_ABOVE_MARGIN,
        };
        assert!(to_new_product(&bad).is_err());
        let empty = DemoProduct { skus: &[], ..bad };
        assert!(to_new_product(&empty).is_err());
        let untitled = DemoProduct { title: "  ", skus: FINE, ..bad };
        assert!(to_new_product(&untitled).is_err());
    }
}
